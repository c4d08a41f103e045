-- Efforts per receiving area. A FÆLLES (shared) effort is spread over the areas that have
-- a residents value in the effort's year, in proportion to it; when no area has one (no
-- statistics that year, or only zero residents), it is split equally over all areas.
-- Budgets (DKK) and fte stay exact decimals (whole øre, 1/10,000 fte).
with

efforts as (
    select * from {{ ref('stg_efforts__indsatser') }}
),

areas as (
    select area_id from {{ ref('stg_reference__areas') }}
),

shared_years as (
    select distinct year
    from efforts
    where is_shared
),

-- Weights in whole units (residents to 4 decimals), so that shares can be computed exactly.
residents as (
    select
        metrics.area_id,
        metrics.year,
        cast(round(metrics.value * 10000) as {{ type_wide_integer() }}) as weight_units
    from {{ ref('int_area_metrics') }} as metrics
    inner join shared_years
        on metrics.year = shared_years.year
    inner join areas
        on metrics.area_id = areas.area_id
    where
        metrics.metric = 'residents'
        and metrics.value is not null
),

weights_by_residents as (
    select
        year,
        area_id,
        weight_units,
        sum(weight_units) over (partition by year) as year_units,
        'residents' as allocation_basis
    from residents
),

weights_positive as (
    select * from weights_by_residents
    where year_units > 0
),

weights_equal as (
    select
        shared_years.year,
        areas.area_id,
        cast(1 as {{ type_wide_integer() }}) as weight_units,
        cast(count(*) over (partition by shared_years.year) as {{ type_wide_integer() }}) as year_units,
        'equal' as allocation_basis
    from shared_years
    cross join areas
    where shared_years.year not in (select weights_positive.year from weights_positive)
),

shared_weights as (
    select * from weights_positive
    union all
    select * from weights_equal
),

-- A shared effort's budget (in øre) and fte (in 1/10,000) split by largest remainder: each
-- area gets the whole units of its exact share, and the units left over go one each to the
-- areas with the largest remainders (then by area_id). The shares are exact decimals that
-- add up to the effort's own figures, so no sum downstream depends on the order of rows.
shared_units as (
    select
        efforts.effort_id,
        efforts.effort_name,
        efforts.effort_area,
        efforts.track,
        efforts.year,
        efforts.area_id as register_area_id,
        shared_weights.area_id,
        shared_weights.allocation_basis,
        shared_weights.weight_units,
        shared_weights.year_units,
        cast(efforts.budget_dkk * 100 as {{ type_wide_integer() }}) as budget_units,
        cast(efforts.fte * 10000 as {{ type_wide_integer() }}) as fte_units
    from efforts
    inner join shared_weights
        on efforts.year = shared_weights.year
    where efforts.is_shared
),

shared_floors as (
    select
        *,
        {{ integer_divide('budget_units * weight_units', 'year_units') }} as budget_floor,
        {{ integer_divide('fte_units * weight_units', 'year_units') }} as fte_floor
    from shared_units
),

shared_ranks as (
    select
        *,
        budget_units - sum(budget_floor) over (partition by effort_id, year) as budget_left,
        fte_units - sum(fte_floor) over (partition by effort_id, year) as fte_left,
        row_number() over (
            partition by effort_id, year
            order by budget_units * weight_units - budget_floor * year_units desc, area_id
        ) as budget_rank,
        row_number() over (
            partition by effort_id, year
            order by fte_units * weight_units - fte_floor * year_units desc, area_id
        ) as fte_rank
    from shared_floors
),

shared as (
    select
        effort_id,
        effort_name,
        effort_area,
        track,
        year,
        register_area_id,
        area_id,
        allocation_basis,
        cast(weight_units as double precision) / cast(year_units as double precision) as weight,
        budget_floor + case when budget_rank <= budget_left then 1 else 0 end as budget_units,
        fte_floor + case when fte_rank <= fte_left then 1 else 0 end as fte_units
    from shared_ranks
),

allocated as (
    select
        effort_id,
        effort_name,
        effort_area,
        track,
        year,
        area_id as register_area_id,
        area_id,
        'direct' as allocation_basis,
        cast(1 as double precision) as weight,
        fte,
        budget_dkk
    from efforts
    where not is_shared

    union all

    select
        effort_id,
        effort_name,
        effort_area,
        track,
        year,
        register_area_id,
        area_id,
        allocation_basis,
        weight,
        cast(fte_units as decimal(38, 0)) * 0.0001 as fte,
        cast(budget_units as decimal(38, 0)) * 0.01 as budget_dkk
    from shared
)

select
    effort_id,
    effort_name,
    effort_area,
    track,
    year,
    register_area_id,
    area_id,
    allocation_basis,
    weight,
    cast(fte as decimal(18, 4)) as fte,
    cast(budget_dkk as decimal(18, 2)) as budget_dkk
from allocated
