-- The ALLE row of a year is the sum of its area rows.
with

areas as (
    select
        year,
        sum(budget_drift_dkk) as budget_drift_dkk,
        sum(budget_projekt_dkk) as budget_projekt_dkk
    from {{ ref('allocation_8020') }}
    where area_id != 'ALLE'
    group by year
),

alle as (
    select
        year,
        budget_drift_dkk,
        budget_projekt_dkk
    from {{ ref('allocation_8020') }}
    where area_id = 'ALLE'
)

select coalesce(areas.year, alle.year) as year
from areas
full outer join alle
    on areas.year = alle.year
where
    areas.year is null
    or alle.year is null
    or abs(areas.budget_drift_dkk - alle.budget_drift_dkk) > 1e-6
    or abs(areas.budget_projekt_dkk - alle.budget_projekt_dkk) > 1e-6
