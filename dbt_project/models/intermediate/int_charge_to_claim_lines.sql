-- The charge-to-claim match of each account: every billable EHR charge and every line of the
-- account's current claim, joined on (account, charge id = 2400 REF*6R). The current claim's
-- lines are its own and those of its add-ons (CLM05-3 2, 3, 4 interim, 5 late charges, of the
-- same kind of payer, submitted at or after it: int_current_claims); a voided current claim
-- (8) bills nothing. Lines billing the same charge more than once are summed, so a duplicate
-- line shows as an amount difference; modifiers are those of the charge's first line.
with

charges as (
    select account_id, charge_id, coalesce(charge_amount, 0) as charge_amount
    from {{ ref('stg_ehr__charge_items') }}
    where is_billable and account_id is not null
),

current_lines as (
    select lines.*
    from {{ ref('stg_rcm__claim_lines') }} as lines
    inner join {{ ref('stg_rcm__claims') }} as claims on lines.claim_key = claims.claim_key
    inner join {{ ref('int_current_claims') }} as current_claims
        on {{ billops.counts_toward_current_claim() }}
    where not coalesce(current_claims.is_void, false)
),

billed as (
    select
        account_id,
        charge_id,
        min(claim_line_key) as claim_line_key,
        min(modifiers) as modifiers,
        count(*) as line_count,
        sum(coalesce(charge_amount, 0)) as billed_amount
    from current_lines
    where charge_id is not null
    group by account_id, charge_id

    union all

    -- a line without a line item control number matches no charge: it stands alone
    select
        account_id,
        charge_id,
        claim_line_key,
        modifiers,
        1 as line_count,
        coalesce(charge_amount, 0) as billed_amount
    from current_lines
    where charge_id is null
),

joined as (
    select
        coalesce(charges.account_id, billed.account_id) as account_id,
        coalesce(charges.charge_id, billed.charge_id) as charge_id,
        billed.claim_line_key,
        billed.modifiers,
        charges.charge_id is not null as is_charged,
        billed.account_id is not null as is_billed,
        coalesce(charges.charge_amount, 0) as charge_amount,
        coalesce(billed.line_count, 0) as billed_lines,
        coalesce(billed.billed_amount, 0) as billed_amount
    from charges
    full outer join billed
        on charges.account_id = billed.account_id
        and charges.charge_id = billed.charge_id
),

final as (
    select
        {{ billops.key_of(['account_id', 'coalesce(charge_id, claim_line_key)']) }}
            as recon_line_key,
        account_id,
        charge_id,
        claim_line_key,
        modifiers,
        is_charged,
        is_billed,
        charge_amount,
        billed_lines,
        billed_amount,
        case
            when is_charged and is_billed and charge_amount = billed_amount then 'MATCHED'
            when is_charged and is_billed then 'AMOUNT_DIFFERS'
            when is_charged then 'UNBILLED'
            else 'BILLED_NOT_CHARGED'
        end as match_status
    from joined
)

select * from final
