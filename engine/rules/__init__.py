"""Rules from a file to a compiled program: YAML read with positions (`yaml_source`), the schema
and name checks (`schema_check`, `references`), compiling (`compiler`, `program`,
`expression_cache`), warnings (`analysis`), loading with every problem placed (`loader`,
`problems`), and making a server's program match a bundle (`plan`)."""
