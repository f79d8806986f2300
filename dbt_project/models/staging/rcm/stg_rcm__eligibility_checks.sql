with

source as (
    select * from {{ billops.without_held_units(source('rcm', 'eligibility_checks'), 'rcm', 'record', '_record') }}
),

latest as (
    {{ billops.latest_per_key('source', ['check_id']) }}
),

renamed as (
    select
        check_id,
        patient_id,
        payer_id,
        member_id,
        checked_at,
        upper(status) as eligibility_status,
        plan_begin,
        plan_end,
        _batch_id,
        _file,
        _record
    from latest
)

select * from renamed
