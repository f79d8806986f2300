-- Patient-side exceptions.
-- STATEMENT_STALE_COVERAGE: the statement's payer and member id on file match none of the
-- patient's EHR coverages (current versions) active on the statement date: a registration update
-- superseded them, by a new version or by a new coverage that replaced an ended one. Judged only
-- while a primary coverage (Coverage.order 1, or no order) is active: a primary that ended with
-- no successor leaves nothing newer to bill, though a secondary coverage runs on. The statement's
-- patient_id (Patient.id or the MRN) is resolved to the patient key (int_patient_keys); member
-- ids compare without case, spaces and punctuation, and a coverage without a member id matches
-- on its payer; a self-pay coverage (payor = the Patient, or a payer of a self-pay type) matches a
-- statement with no payer on file or a self-pay payer on file. A statement whose patient's coverage carries an EHR payer id no crosswalk maps
-- (int_unmapped_payer_ids) is not judged: that is one data-quality warning per id.
-- PATIENT_BALANCE_MISMATCH: amount due differs from the patient responsibility of the latest
-- adjudication (reversals aside) less patient payments (net of refunds) received by the
-- statement date. Where the latest word is the primary payer's, its add-on claims (CLM05-3 2-4
-- interim, 5 late charges, each adjudicated on its own) add their patient responsibility to
-- the primary adjudication's; a secondary payer's adjudication replaces them.
-- CREDIT_BALANCE: payer payments over every 835 claim (reversals net out) plus patient payments
-- net of refunds exceed what the account owes: the primary payer's allowed amount (paid plus
-- patient responsibility) less what a secondary payer allowed off the rest (its CAS CO and PI:
-- Medicaid's payment accepted in full), or the EHR charges when no payer has adjudicated it; an
-- account with neither is not judged yet. Both payers' payments count, so a secondary that pays
-- more than the primary left is a credit balance too. The primary's add-on claims (CLM05-3 2-4
-- interim, 5 late charges) add what they allowed (paid plus patient responsibility) to what is
-- owed, as their payments add to what was received.
with

accounts as (
    select * from {{ ref('int_accounts') }}
),

statements as (
    select * from {{ ref('stg_rcm__statements') }}
),

adjudications as (
    select
        adjudications.*,
        case
            when coalesce(adjudications.latest_is_secondary, false)
                or adjudications.secondary_trace_number is not null
                or adjudications.primary_trace_number is null
                then coalesce(adjudications.latest_patient_responsibility_amount, 0)
            else coalesce(adjudications.primary_patient_responsibility_amount, 0)
                + coalesce(adjudications.primary_add_on_patient_responsibility_amount, 0)
        end as owed_patient_responsibility_amount
    from {{ ref('int_account_adjudications') }} as adjudications
),

payments as (
    select * from {{ ref('stg_rcm__patient_payments') }}
    where account_id is not null
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
        'STATEMENT_STALE_COVERAGE' as exception_type,
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

balance as (
    select
        'PATIENT_BALANCE_MISMATCH' as exception_type,
        statements.statement_id,
        statements.patient_id,
        statements.account_id,
        abs(statements.amount_due
            - (adjudications.owed_patient_responsibility_amount
               - coalesce(paid.amount, 0))) as amount_at_risk,
        statements.statement_date
    from statements
    inner join adjudications on statements.account_id = adjudications.account_id
    left join (
        select statements.statement_id, sum(payments.amount) as amount
        from statements
        inner join payments
            on statements.account_id = payments.account_id
            and cast(payments.received_at as date) <= statements.statement_date
        group by statements.statement_id
    ) as paid on statements.statement_id = paid.statement_id
    where {{ billops.amounts_differ(
        'statements.amount_due',
        'adjudications.owed_patient_responsibility_amount - coalesce(paid.amount, 0)'
    ) }}
),

statement_exceptions as (
    select * from stale
    union all
    select * from balance
),

charges as (
    select account_id, sum(charge_amount) as charge_amount
    from {{ ref('stg_ehr__charge_items') }}
    where is_billable and account_id is not null
    group by account_id
),

patient_paid as (
    select account_id, sum(amount) as amount, max(received_at) as last_received_at
    from payments
    group by account_id
),

account_balances as (
    select
        coalesce(adjudications.account_id, patient_paid.account_id) as account_id,
        coalesce(adjudications.total_paid_amount, 0) + coalesce(patient_paid.amount, 0)
            as paid_amount,
        case
            when adjudications.primary_trace_number is not null
                then coalesce(adjudications.primary_paid_amount, 0)
                    + coalesce(adjudications.primary_patient_responsibility_amount, 0)
                    + coalesce(adjudications.primary_add_on_paid_amount, 0)
                    + coalesce(adjudications.primary_add_on_patient_responsibility_amount, 0)
                    - coalesce(adjudications.secondary_contractual_amount, 0)
            else coalesce(charges.charge_amount, 0)
        end as owed_amount,
        adjudications.primary_trace_number is not null or charges.account_id is not null
            as is_judged,
        greatest(
            coalesce(cast(adjudications.latest_remit_date as {{ dbt.type_timestamp() }}),
                     patient_paid.last_received_at),
            coalesce(patient_paid.last_received_at,
                     cast(adjudications.latest_remit_date as {{ dbt.type_timestamp() }}))
        ) as last_paid_at
    from adjudications
    full outer join patient_paid on adjudications.account_id = patient_paid.account_id
    left join charges
        on coalesce(adjudications.account_id, patient_paid.account_id) = charges.account_id
),

credit_balances as (
    select
        'CREDIT_BALANCE' as exception_type,
        account_balances.account_id,
        accounts.entity,
        accounts.patient_id,
        account_balances.paid_amount - account_balances.owed_amount as amount_at_risk,
        account_balances.last_paid_at
    from account_balances
    left join accounts on account_balances.account_id = accounts.account_id
    where account_balances.paid_amount - account_balances.owed_amount > 0.005
        -- a payment before any charge or adjudication (a copay at registration) is no credit yet
        and account_balances.is_judged
),

final as (
    select
        statement_exceptions.exception_type,
        statement_exceptions.statement_id as exception_key,
        accounts.entity,
        statement_exceptions.patient_id,
        statement_exceptions.account_id,
        {{ billops.null_text() }} as claim_id,
        {{ billops.null_text() }} as charge_id,
        {{ billops.null_text() }} as trace_number,
        {{ billops.null_text() }} as journal_id,
        statement_exceptions.statement_id,
        statement_exceptions.amount_at_risk,
        cast(statement_exceptions.statement_date as {{ dbt.type_timestamp() }}) as detected_at,
        {{ billops.null_text() }} as root_cause
    from statement_exceptions
    left join accounts on statement_exceptions.account_id = accounts.account_id

    union all

    select
        exception_type,
        account_id as exception_key,
        entity,
        patient_id,
        account_id,
        {{ billops.null_text() }} as claim_id,
        {{ billops.null_text() }} as charge_id,
        {{ billops.null_text() }} as trace_number,
        {{ billops.null_text() }} as journal_id,
        {{ billops.null_text() }} as statement_id,
        amount_at_risk,
        last_paid_at as detected_at,
        {{ billops.null_text() }} as root_cause
    from credit_balances
)

select * from final
