// Compiles the small C shim that does INCRBYFLOAT in long double, exactly as Redis does.
fn main() {
    println!("cargo:rerun-if-changed=csrc/longdouble.c");
    cc::Build::new()
        .file("csrc/longdouble.c")
        .warnings(true)
        .compile("ferrodis_longdouble");
}
