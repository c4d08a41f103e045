with

budgets as (
    select
        year,
        area_id,
        budget_total_dkk
    from {{ ref('allocation_8020') }}
    where area_id != 'ALLE'
),

year_totals as (
    select
        year,
        budget_total_dkk as total_budget_dkk
    from {{ ref('allocation_8020') }}
    where area_id = 'ALLE'
),

need as (
    select * from {{ ref('int_area_need') }}
),

-- need_share is taken over this mart's rows, so the recommended budgets of a year add up
-- to its total budget (to the øre).
shares as (
    select
        budgets.year,
        budgets.area_id,
        need.ruleset,
        need.category,
        need.residents,
        need.mean_pressure,
        need.need_score,
        budgets.budget_total_dkk,
        year_totals.total_budget_dkk,
        need.need_score
        / nullif({{ exact_sum('need.need_score', over='partition by budgets.year') }}, 0) as need_share
    from budgets
    inner join year_totals
        on budgets.year = year_totals.year
    left join need
        on
            budgets.area_id = need.area_id
            and budgets.year = need.year
),

-- Money is DKK to the øre (DECIMAL(18,2)): the budgets as allocation_8020 sums them; the
-- recommendation (a share of the total) rounded to the øre.
recommended as (
    select
        *,
        cast(need_share * cast(total_budget_dkk as double precision) as decimal(18, 2))
            as recommended_budget_dkk
    from shares
)

select
    cast(year as integer) as year,
    cast(area_id as text) as area_id,
    cast(ruleset as text) as ruleset,
    cast(category as text) as category,
    cast(residents as double precision) as residents,
    cast(mean_pressure as double precision) as mean_pressure,
    cast(need_score as double precision) as need_score,
    cast(need_share as double precision) as need_share,
    cast(budget_total_dkk as decimal(18, 2)) as budget_dkk,
    cast(total_budget_dkk as decimal(18, 2)) as total_budget_dkk,
    cast(budget_total_dkk as double precision)
    / nullif(cast(total_budget_dkk as double precision), 0) as actual_share,
    recommended_budget_dkk,
    cast(recommended_budget_dkk - budget_total_dkk as decimal(18, 2)) as delta_budget_dkk
from recommended
