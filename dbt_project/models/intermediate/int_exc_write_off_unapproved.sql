{%- set write_off_types = var('write_off_account_types') -%}
-- WRITE_OFF_UNAPPROVED, one per GL journal: a journal whose debits to write-off accounts (found
-- by chart_of_accounts.account_type) exceed the approval threshold and that has no approver.
with

write_off_accounts as (
    select entity, account
    from {{ ref('stg_erp__chart_of_accounts') }}
    where account_type in ('{{ write_off_types | join("', '") }}')
),

write_off_journals as (
    select
        lines.journal_id,
        min(lines.entity) as entity,
        min(lines.posting_date) as posting_date,
        sum(lines.debit_amount - lines.credit_amount) as write_off_amount,
        max(case when coalesce(trim(lines.approved_by), '') <> '' then 1 else 0 end)
            as has_approver
    from {{ ref('stg_erp__gl_journal_lines') }} as lines
    inner join write_off_accounts
        on lines.entity = write_off_accounts.entity
        and lines.account = write_off_accounts.account
    group by lines.journal_id
),

final as (
    select
        {{ billops.exception_row(
            'WRITE_OFF_UNAPPROVED',
            exception_key="journal_id",
            entity="entity",
            journal_id="journal_id",
            amount_at_risk="cast(write_off_amount as decimal(38, 2))",
            detected_at="cast(posting_date as " ~ dbt.type_timestamp() ~ ")",
        ) }}
    from write_off_journals
    where has_approver = 0
        and write_off_amount > {{ var('write_off_approval_threshold') }}
)

select * from final
