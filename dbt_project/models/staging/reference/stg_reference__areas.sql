select
    area_id,
    area_name,
    town,
    municipality_code,
    region_code
from {{ source('reference', 'areas') }}
