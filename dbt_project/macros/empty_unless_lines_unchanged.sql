{#- The pre-hook of an incremental model built from the ledger lines (`lines_relation`,
    itself incremental: stg_vandalism__ledger_lines), keeping each line's n_exports and
    last_loaded_at: empties the model unless every line it holds is either still in
    `lines_relation` as it was, or recomputed there since (a later last_loaded_at: the model's
    incremental run replaces those). Raw rows only ever arrive with a later load time, so the
    lines not recomputed since can only have lost raw rows, or vanished: then their n_exports
    add up to less in `lines_relation` than here. Nothing outside an incremental run. -#}
{% macro empty_unless_lines_unchanged(lines_relation) %}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where
            (
                select coalesce(sum(n_exports), 0) from {{ lines_relation }}
                where last_loaded_at <= (select max(last_loaded_at) from {{ this }})
            )
            <> (
                select coalesce(sum(kept.n_exports), 0) from {{ this }} as kept
                where not exists (
                    select 1 from {{ lines_relation }} as recomputed
                    where
                        recomputed.last_loaded_at > (select max(last_loaded_at) from {{ this }})
                        and recomputed.housing_org = kept.housing_org
                        and recomputed.case_no = kept.case_no
                        and recomputed.line_no = kept.line_no
                )
            )
    {%- endif -%}
{% endmacro %}
