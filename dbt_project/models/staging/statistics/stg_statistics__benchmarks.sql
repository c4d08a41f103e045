select
    tid as year,
    niveau as level_da,
    case niveau
        when 'land' then 'national'
        when 'region' then 'region'
        when 'kommune' then 'municipality'
    end as level,
    kode as code,
    maal as measure,
    indhold as value,
    coalesce(indhold_suppressed, false) as is_suppressed
from {{ source('statistics', 'benchmarks') }}
