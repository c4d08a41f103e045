select
    housing_org,
    department_no,
    department_name,
    area_id,
    dwellings,
    valid_from,
    valid_to
from {{ source('reference', 'departments') }}
