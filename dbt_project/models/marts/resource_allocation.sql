select
    cast(year as integer) as year,
    cast(area_id as text) as area_id,
    cast(effort_area as text) as effort_area,
    cast(track as text) as track,
    cast(sum(fte) as double precision) as fte,
    cast(sum(budget_dkk) as double precision) as budget_dkk,
    cast(coalesce(sum(fte) filter (where allocation_basis != 'direct'), 0) as double precision) as fte_shared,
    cast(
        coalesce(sum(budget_dkk) filter (where allocation_basis != 'direct'), 0) as double precision
    ) as budget_shared_dkk
from {{ ref('int_efforts_by_area') }}
group by year, area_id, effort_area, track
