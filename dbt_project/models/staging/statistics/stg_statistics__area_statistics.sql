select
    boligorganisation as housing_org,
    afdeling as department_no,
    maal as measure,
    tid as year,
    indhold as value,
    coalesce(indhold_suppressed, false) as is_suppressed
from {{ source('statistics', 'area_statistics') }}
