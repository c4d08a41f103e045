select
    cast(year as integer) as year,
    cast(area_id as varchar) as area_id,
    cast(effort_area as varchar) as effort_area,
    cast(track as varchar) as track,
    cast(sum(fte) as double) as fte,
    cast(sum(budget_dkk) as double) as budget_dkk,
    cast(coalesce(sum(fte) filter (where allocation_basis != 'direct'), 0) as double) as fte_shared,
    cast(
        coalesce(sum(budget_dkk) filter (where allocation_basis != 'direct'), 0) as double
    ) as budget_shared_dkk
from {{ ref('int_efforts_by_area') }}
group by year, area_id, effort_area, track
