"""The benchmark (bench/): its smoke run and the query plans it relies on."""
