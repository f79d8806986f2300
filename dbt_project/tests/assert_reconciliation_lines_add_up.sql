-- Every charge is either matched or unbilled, every line either matches a charge or is billed
-- without one, and the variance is charges less billed.
select account_id
from {{ ref('fct_account_reconciliation') }}
where charge_lines <> matched_lines + unbilled_lines
    or charge_amount <> matched_amount + unbilled_amount
    or billed_lines < billed_not_charged_lines + matched_lines
    or variance_amount <> charge_amount - billed_amount
    or (recon_status = 'TIED' and (variance_amount <> 0 or unbilled_lines > 0
        or billed_not_charged_lines > 0))
