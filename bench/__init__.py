"""The benchmark harness: `flask bench seed` builds the data set, `flask bench run` (`make bench`)
measures the performance budget of DESIGN §6 against it. Benchmarks, not tests: nothing here runs
in `make test` except the seed's consistency tests at a tiny scale (tests/bench)."""
