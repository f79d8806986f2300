-- Reference: each (entity, account) as last delivered. Extracts may cover one entity at a time,
-- so later batches update accounts rather than replace the whole chart.
with

source as (
    select * from {{ billops.without_held_units(source('erp', 'chart_of_accounts'), 'erp', 'record', '_record') }}
),

latest as (
    {{ billops.latest_per_key('source', ['entity', 'account']) }}
),

renamed as (
    select
        {{ billops.key_of(['entity', 'account']) }} as gl_account_key,
        entity,
        account,
        name as account_name,
        upper(account_type) as account_type,
        _batch_id,
        _record
    from latest
)

select * from renamed
