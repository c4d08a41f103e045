-- StatBank time codes: 2024 (year), 2024K1 (quarter), 2024M01 (month), 2024H1 (half year).
select
    table_id,
    cast(dimensions as {{ type_json() }}) as dimensions,
    -- OMRÅDE is the geography variable of the municipal context tables.
    {{ json_text('dimensions', 'OMRÅDE') }} as geography,
    tid as time_code,
    cast(left(tid, 4) as integer) as period_year,
    case
        when {{ regexp_full_match('tid', '\\d{4}') }} then 'year'
        when {{ regexp_full_match('tid', '\\d{4}H\\d') }} then 'half_year'
        when {{ regexp_full_match('tid', '\\d{4}K\\d') }} then 'quarter'
        when {{ regexp_full_match('tid', '\\d{4}M\\d{2}') }} then 'month'
    end as period_type,
    indhold as value,
    coalesce(indhold_suppressed, false) as is_suppressed
from {{ source('statbank', 'statbank') }}
