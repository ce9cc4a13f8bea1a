"""(spectrum: being built)"""

__all__: list[str] = []
