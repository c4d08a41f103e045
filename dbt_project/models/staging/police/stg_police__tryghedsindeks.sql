-- Place names are matched to areas.csv ignoring case and surrounding blanks (SOURCES.md);
-- the two benchmark rows keep area_id NULL and are told apart by row_type.
with

tryghedsindeks as (
    select
        aar,
        indeks,
        trim(omraade) as place_name
    from {{ source('police', 'tryghedsindeks') }}
),

areas as (
    select
        area_id,
        area_name
    from {{ ref('stg_reference__areas') }}
)

select
    tryghedsindeks.aar as year,
    tryghedsindeks.place_name,
    areas.area_id,
    tryghedsindeks.indeks as safety_index,
    coalesce(areas.area_name, tryghedsindeks.place_name) as area_name,
    case
        when lower(tryghedsindeks.place_name) = 'hele landet' then 'national'
        when lower(tryghedsindeks.place_name) = 'alle udsatte områder' then 'udsatte_average'
        when areas.area_id is not null then 'area'
    end as row_type
from tryghedsindeks
left join areas
    on lower(tryghedsindeks.place_name) = lower(trim(areas.area_name))
