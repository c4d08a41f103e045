-- Per year: need_share sums to 1 wherever some area has a need score, and actual_share
-- sums to 1 wherever the year has a budget.
select
    year,
    sum(need_share) as need_share_sum,
    sum(actual_share) as actual_share_sum
from {{ ref('allocation_recommendation') }}
group by year
having
    (count(need_share) > 0 and abs(sum(need_share) - 1) > 1e-9)
    or (max(total_budget_dkk) > 0 and abs(sum(actual_share) - 1) > 1e-9)
