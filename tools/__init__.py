"""Tools that write into the repository (golden files, the errata table) or run the whole suite
against planted bugs (mutation testing): not part of the installed package."""
