with

incidents as (
    select
        anmeldelse_id,
        dato,
        kategori,
        trim(omraade) as place_name
    from {{ source('police', 'police_incidents') }}
),

areas as (
    select
        area_id,
        area_name
    from {{ ref('stg_reference__areas') }}
)

select
    incidents.anmeldelse_id as incident_id,
    incidents.dato as incident_date,
    incidents.place_name,
    areas.area_id,
    incidents.kategori as category,
    cast(extract(year from incidents.dato) as integer) as incident_year,
    -- Arson (påsat brand) is the one category the marts count separately.
    coalesce(lower(trim(incidents.kategori)) = 'påsat brand', false) as is_arson
from incidents
left join areas
    on lower(incidents.place_name) = lower(trim(areas.area_name))
