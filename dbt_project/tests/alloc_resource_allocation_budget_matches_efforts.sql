-- Spreading FÆLLES efforts must neither create nor lose money: per year, Σ budget and
-- Σ fte of resource_allocation equal the raw effort register's (within float rounding).
-- The Dagster check belongs to resource_allocation (the test reads more than one node).
{{ config(meta={'dagster': {'ref': {'name': 'resource_allocation'}}}) }}
with

register as (
    select
        aar as year,
        sum(budget_kr) as budget_dkk,
        sum(aarsvaerk) as fte
    from {{ source('efforts', 'efforts') }}
    group by aar
),

allocated as (
    select
        year,
        sum(budget_dkk) as budget_dkk,
        sum(fte) as fte
    from {{ ref('resource_allocation') }}
    group by year
)

select
    coalesce(register.year, allocated.year) as year,
    register.budget_dkk as register_budget_dkk,
    allocated.budget_dkk as allocated_budget_dkk,
    register.fte as register_fte,
    allocated.fte as allocated_fte
from register
full outer join allocated
    on register.year = allocated.year
where
    register.year is null
    or allocated.year is null
    or abs(register.budget_dkk - allocated.budget_dkk) > 1e-6
    or abs(register.fte - allocated.fte) > 1e-9
