-- Efforts per receiving area. A FÆLLES (shared) effort is spread over the areas that have
-- a residents value in the effort's year, in proportion to it; when no area has one (no
-- statistics that year, or only zero residents), it is split equally over all areas.
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

residents as (
    select
        metrics.area_id,
        metrics.year,
        metrics.value as residents,
        sum(metrics.value) over (partition by metrics.year) as year_residents
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
        residents / year_residents as weight,
        'residents' as allocation_basis
    from residents
    where year_residents > 0
),

weights_equal as (
    select
        shared_years.year,
        areas.area_id,
        cast(1 as double precision) / count(*) over (partition by shared_years.year) as weight,
        'equal' as allocation_basis
    from shared_years
    cross join areas
    where shared_years.year not in (select weights_by_residents.year from weights_by_residents)
),

shared_weights as (
    select * from weights_by_residents
    union all
    select * from weights_equal
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
        1.0 as weight,
        'direct' as allocation_basis,
        fte,
        budget_dkk
    from efforts
    where not is_shared

    union all

    select
        efforts.effort_id,
        efforts.effort_name,
        efforts.effort_area,
        efforts.track,
        efforts.year,
        efforts.area_id as register_area_id,
        shared_weights.area_id,
        shared_weights.weight,
        shared_weights.allocation_basis,
        efforts.fte,
        efforts.budget_dkk
    from efforts
    inner join shared_weights
        on efforts.year = shared_weights.year
    where efforts.is_shared
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
    cast(weight as double precision) as weight,
    cast(fte * weight as double precision) as fte,
    cast(budget_dkk * weight as double precision) as budget_dkk
from allocated
