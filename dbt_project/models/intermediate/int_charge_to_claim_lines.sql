-- The charge-to-claim match of each account: every billable EHR charge and every line of the
-- account's current claim, joined on (account, charge id = 2400 REF*6R). REF*6R is optional: a
-- line without it is matched one to one to a charge no line names, of the same account and
-- procedure code, first on equal service date and units, then on the code alone in date order
-- (so a quantity billed differently still pairs, and its amounts are compared); ChargeItem (FHIR
-- R4) carries no modifiers, so they come from the line. Where REF*6R is present it wins. The current claim's
-- lines are its own and those of its add-ons (CLM05-3 2, 3, 4 interim, 5 late charges, of the
-- same kind of payer, submitted at or after it: int_current_claims); a voided current claim
-- (8) bills nothing. Lines billing the same charge more than once are summed, so a duplicate
-- line shows as an amount difference; modifiers are those of the charge's first line.
with

charges as (
    select
        account_id,
        charge_id,
        upper(trim(hcpcs)) as procedure_code,
        units,
        service_date,
        service_at,
        entered_at,
        coalesce(charge_amount, 0) as charge_amount
    from {{ ref('stg_ehr__charge_items') }}
    where is_billable and account_id is not null
),

claimed_lines as (
    select lines.*
    from {{ ref('stg_rcm__claim_lines') }} as lines
    inner join {{ ref('stg_rcm__claims') }} as claims on lines.claim_key = claims.claim_key
    inner join {{ ref('int_current_claims') }} as current_claims
        on {{ billops.counts_toward_current_claim() }}
    where not coalesce(current_claims.is_void, false)
),

-- charges no line names by REF*6R, and lines that name none
open_charges as (
    select charges.*
    from charges
    where not exists (
        select 1 from claimed_lines
        where claimed_lines.account_id = charges.account_id
            and claimed_lines.charge_id = charges.charge_id
    )
),

unreferenced_lines as (
    select
        claim_line_key,
        account_id,
        upper(trim(hcpcs)) as procedure_code,
        units,
        service_date
    from claimed_lines
    where charge_id is null
),

-- first pass: same account, code, service date and units, paired in order
exact_pairs as (
    select lines.claim_line_key, charges.charge_id
    from (
        select unreferenced_lines.*, row_number() over (
            partition by account_id, procedure_code, service_date, units
            order by claim_line_key) as pair_rank
        from unreferenced_lines
    ) as lines
    inner join (
        select open_charges.*, row_number() over (
            partition by account_id, procedure_code, service_date, units
            order by service_at, entered_at, charge_id) as pair_rank
        from open_charges
    ) as charges
        on lines.account_id = charges.account_id
        and lines.procedure_code = charges.procedure_code
        and lines.service_date = charges.service_date
        and lines.units = charges.units
        and lines.pair_rank = charges.pair_rank
),

-- second pass: what is left, on account and code alone, in date order
loose_pairs as (
    select lines.claim_line_key, charges.charge_id
    from (
        select unreferenced_lines.*, row_number() over (
            partition by account_id, procedure_code
            order by service_date nulls last, claim_line_key) as pair_rank
        from unreferenced_lines
        where claim_line_key not in (select claim_line_key from exact_pairs)
    ) as lines
    inner join (
        select open_charges.*, row_number() over (
            partition by account_id, procedure_code
            order by service_date, service_at, entered_at, charge_id) as pair_rank
        from open_charges
        where charge_id not in (select charge_id from exact_pairs)
    ) as charges
        on lines.account_id = charges.account_id
        and lines.procedure_code = charges.procedure_code
        and lines.pair_rank = charges.pair_rank
),

paired as (
    select claim_line_key, charge_id from exact_pairs
    union all
    select claim_line_key, charge_id from loose_pairs
),

current_lines as (
    select
        claimed_lines.claim_line_key,
        claimed_lines.account_id,
        coalesce(claimed_lines.charge_id, paired.charge_id) as charge_id,
        claimed_lines.modifiers,
        claimed_lines.charge_amount
    from claimed_lines
    left join paired on claimed_lines.claim_line_key = paired.claim_line_key
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
