-- STATEMENT_STALE_COVERAGE, one per patient statement: the statement's payer and member id on
-- file match none of the patient's EHR coverages (current versions) active on the statement
-- date: a registration update superseded them, by a new version or by a new coverage that
-- replaced an ended one. Judged only while a primary coverage (Coverage.order 1, or no order) is
-- active: a primary that ended with no successor leaves nothing newer to bill, though a secondary
-- coverage runs on. The statement's patient_id (Patient.id or the MRN) is resolved to the patient
-- key (int_patient_keys); member ids compare without case, spaces and punctuation, and a coverage
-- without a member id matches on its payer; a self-pay coverage (payor = the Patient, or a payer
-- of a self-pay type) matches a statement with no payer on file or a self-pay payer on file. A
-- statement whose patient's coverage carries an EHR payer id no crosswalk maps
-- (int_unmapped_payer_ids) is not judged: that is one data-quality warning per id.
with

accounts as (
    select * from {{ ref('int_accounts') }}
),

statements as (
    select * from {{ ref('stg_rcm__statements') }}
),

-- payers.csv payers of a self-pay type (var self_pay_payer_types): self-pay is written either as
-- such a payer or as a Coverage whose payor is the Patient
self_pay_payers as (
    select payer_id from {{ ref('stg_rcm__payers') }}
    where payer_type in ('{{ var('self_pay_payer_types') | join("', '") }}')
),

current_coverages as (
    select
        patient_id,
        payer_id,
        member_id,
        is_self_pay or payer_id in (select payer_id from self_pay_payers) as is_self_pay,
        period_start,
        period_end,
        coalesce(coverage_order, 1) = 1 as is_primary
    from {{ ref('stg_ehr__coverages') }}
    where is_current_version and status = 'active'
),

-- statements.csv sends Patient.id or the MRN: the patient key of each statement
statement_patients as (
    select
        statements.statement_id,
        coalesce(patient_keys.patient_id, statements.patient_id) as patient_id
    from statements
    left join {{ ref('int_patient_keys') }} as patient_keys
        on statements.patient_id = patient_keys.patient_alias
),

-- the EHR's current coverage on each statement's date
statement_coverages as (
    select
        statements.statement_id,
        current_coverages.payer_id,
        current_coverages.member_id,
        current_coverages.is_self_pay,
        current_coverages.is_primary
    from statements
    inner join statement_patients
        on statements.statement_id = statement_patients.statement_id
    inner join current_coverages
        on statement_patients.patient_id = current_coverages.patient_id
        and {{ billops.effective_on('statements.statement_date',
                                    'cast(current_coverages.period_start as date)',
                                    'cast(current_coverages.period_end as date)') }}
),

stale as (
    select
        statements.statement_id,
        statement_patients.patient_id,
        statements.account_id,
        statements.amount_due as amount_at_risk,
        statements.statement_date
    from statements
    inner join statement_patients
        on statements.statement_id = statement_patients.statement_id
    where statements.statement_id in (
            select statement_id from statement_coverages where is_primary
        )
        and not exists (
            select 1
            from statement_coverages
            where statement_coverages.statement_id = statements.statement_id
                and (
                    (statement_coverages.is_self_pay
                     and (nullif(trim(statements.payer_id_on_file), '') is null
                          or statements.payer_id_on_file in (select payer_id from self_pay_payers)))
                    or (statement_coverages.payer_id = statements.payer_id_on_file
                        and {{ billops.member_ids_agree('statement_coverages.member_id',
                                                        'statements.member_id_on_file') }})
                )
        )
        and not exists (
            select 1
            from statement_coverages
            inner join {{ ref('int_unmapped_payer_ids') }} as unmapped
                on statement_coverages.payer_id = unmapped.payer_id
            where statement_coverages.statement_id = statements.statement_id
        )
),

final as (
    select
        {{ billops.exception_row(
            'STATEMENT_STALE_COVERAGE',
            exception_key="stale.statement_id",
            entity="accounts.entity",
            patient_id="stale.patient_id",
            account_id="stale.account_id",
            statement_id="stale.statement_id",
            amount_at_risk="cast(stale.amount_at_risk as decimal(38, 2))",
            detected_at="cast(stale.statement_date as " ~ dbt.type_timestamp() ~ ")",
        ) }}
    from stale
    left join accounts on stale.account_id = accounts.account_id
)

select * from final
