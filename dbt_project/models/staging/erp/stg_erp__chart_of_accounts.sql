-- Reference: each (entity, account) as last delivered. Extracts may cover one entity at a time,
-- so later batches update accounts rather than replace the whole chart; an account disappears
-- only when a later file is declared a full snapshot in its manifest.
with

source as (
    select * from {{ billops.without_held_units(source('erp', 'chart_of_accounts'), 'erp', 'record', '_record') }}
),

latest as (
    {{ billops.latest_reference_extract('source', ['entity', 'account'], 'erp', 'chart_of_accounts.csv') }}
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
