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
    {{ billops.exception_row(
        'MISSING_PRIOR_AUTH',
        exception_key="claims.account_id",
        entity="claims.entity",
        patient_id="claims.patient_id",
        account_id="claims.account_id",
        claim_id="claims.account_id",
        amount_at_risk="cast(auth_lines.amount as decimal(38, 2))",
        detected_at="claims.submitted_at",
        root_cause=dbt.concat(["'AUTH_REQUIRED_'", 'auth_lines.first_hcpcs']),
    ) }}
from claims
inner join auth_lines on claims.account_id = auth_lines.account_id
