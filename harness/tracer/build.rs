//! Tells the tracer whether the MPI library it is built against has the MPI-4 large-count
//! functions (`MPI_Send_c` and the rest): the cfg `mpi_large_count`.
//!
//! The library is found exactly as `mpi-sys` finds it (the same probe: `MPICC`, else `mpicc`,
//! else pkg-config), and its headers are read: the bindings `mpi-sys` generates from them then
//! declare the `PMPI_X_c` functions too (a disagreement would not compile). MPICH 4 has them;
//! Open MPI 4.1 does not.

use std::path::Path;

fn main() {
    println!("cargo:rustc-check-cfg=cfg(mpi_large_count)");
    println!("cargo:rerun-if-env-changed=MPICC");
    println!("cargo:rerun-if-env-changed=MPI_PKG_CONFIG");
    println!("cargo:rerun-if-env-changed=CRAY_MPICH_DIR");
    // Without a library, mpi-sys fails to build and says why; nothing to add here.
    let Ok(lib) = build_probe_mpi::probe() else {
        return;
    };
    if lib
        .include_paths
        .iter()
        .any(|dir| declares_large_count(dir))
    {
        println!("cargo:rustc-cfg=mpi_large_count");
    }
}

/// Whether one of the MPI headers in `dir` (`mpi.h` and its `mpi*.h` companions, such as
/// MPICH's `mpi_proto.h`) declares `PMPI_Send_c`.
fn declares_large_count(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|entry| {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        name.starts_with("mpi")
            && name.ends_with(".h")
            && std::fs::read_to_string(entry.path()).is_ok_and(|text| text.contains("PMPI_Send_c("))
    })
}
