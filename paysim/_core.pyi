"""Type stubs for the compiled engine extension (checked by ``mypy.stubtest``)."""

__all__ = ["__version__", "core_version"]

__version__: str

def core_version() -> str:
    """Version of the Rust engine crate the extension was built from."""
