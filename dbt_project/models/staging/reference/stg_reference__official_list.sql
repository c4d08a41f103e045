-- Area names are matched to areas.csv ignoring case and surrounding blanks (SOURCES.md), as
-- for the police files.
with

official_list as (
    select
        aar,
        kategori,
        trim(omraade) as place_name
    from {{ source('reference', 'official_list') }}
),

areas as (
    select
        area_id,
        area_name
    from {{ ref('stg_reference__areas') }}
)

select
    official_list.aar as year,
    official_list.place_name,
    areas.area_id,
    official_list.kategori as category
from official_list
left join areas
    on lower(official_list.place_name) = lower(trim(areas.area_name))
