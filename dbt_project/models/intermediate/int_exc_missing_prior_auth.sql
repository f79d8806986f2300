-- MISSING_PRIOR_AUTH, one per account's current claim (int_current_claim_accounts): a billed
-- line's HCPCS needs authorization under the billed payer's rules on its service date and neither
-- the line (2400 REF*G1) nor the claim (2300 REF*G1) carries one. Amount at risk: the charges of
-- those lines. A claim to a secondary payer is not judged: the authorization is the primary's
-- business, the secondary follows its adjudication.
with

claims as (
    select * from {{ ref('int_current_claim_accounts') }}
),

auth_lines as (
    select
        lines.account_id,
        sum(coalesce(lines.charge_amount, 0)) as amount,
        min(lines.hcpcs) as first_hcpcs
    from {{ ref('stg_rcm__claim_lines') }} as lines
    inner join claims on lines.claim_key = claims.current_claim_key
    where coalesce(nullif(trim(lines.prior_auth_number), ''),
                   nullif(trim(claims.prior_auth_number), '')) is null
        and not claims.is_secondary
        and exists (
            select 1
            from {{ ref('stg_rcm__auth_rules') }} as rules
            where rules.payer_id = claims.payer_id
                and rules.hcpcs = lines.hcpcs
                and {{ billops.effective_on('coalesce(lines.service_date, claims.service_date)',
                                            'rules.effective_from', 'rules.effective_to') }}
        )
    group by lines.account_id
)

select
    'MISSING_PRIOR_AUTH' as exception_type,
    claims.account_id as exception_key,
    claims.entity,
    claims.patient_id,
    claims.account_id,
    claims.account_id as claim_id,
    {{ billops.null_text() }} as charge_id,
    {{ billops.null_text() }} as trace_number,
    {{ billops.null_text() }} as journal_id,
    {{ billops.null_text() }} as statement_id,
    cast(auth_lines.amount as decimal(38, 2)) as amount_at_risk,
    claims.submitted_at as detected_at,
    {{ dbt.concat(["'AUTH_REQUIRED_'", 'auth_lines.first_hcpcs']) }} as root_cause
from claims
inner join auth_lines on claims.account_id = auth_lines.account_id
