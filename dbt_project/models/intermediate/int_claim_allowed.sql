-- What the contract allows for the account's current claim, per payer role: the sum of its
-- billed lines' allowances, only when every line has a contract (a claim with one line the
-- contract does not price cannot be judged on its total).
with

claim_line_allowed as (
    select * from {{ ref('int_claim_line_allowed') }}
),

final as (
    select
        account_id,
        payer_role,
        cast(sum(allowed_amount) as decimal(38, 6)) as allowed_amount
    from claim_line_allowed
    group by account_id, payer_role
    having count(*) = count(case when has_contract then 1 end)
)

select * from final
