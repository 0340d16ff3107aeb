//! Tests that need a real server (`cargo pgrx test`). Pure logic is tested beside it.

#[pgrx::pg_schema]
mod pg {
    use pgrx::prelude::*;

    #[pg_test]
    fn schema_installs_once() {
        let first = Spi::get_one::<String>("SELECT perf_install_schema()").unwrap().unwrap();
        assert!(first.starts_with("installed"), "{first}");
        let second = Spi::get_one::<String>("SELECT perf_install_schema()").unwrap().unwrap();
        assert!(second.contains("already present"), "{second}");
    }
}
