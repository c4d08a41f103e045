-- Exact sums: budgets in DKK to the øre and fte to 1/10,000, as int_efforts_by_area gives them.
select
    cast(year as integer) as year,
    cast(area_id as text) as area_id,
    cast(effort_area as text) as effort_area,
    cast(track as text) as track,
    cast(sum(fte) as decimal(18, 4)) as fte,
    cast(sum(budget_dkk) as decimal(18, 2)) as budget_dkk,
    cast(coalesce(sum(fte) filter (where allocation_basis != 'direct'), 0) as decimal(18, 4)) as fte_shared,
    cast(
        coalesce(sum(budget_dkk) filter (where allocation_basis != 'direct'), 0) as decimal(18, 2)
    ) as budget_shared_dkk
from {{ ref('int_efforts_by_area') }}
group by year, area_id, effort_area, track
