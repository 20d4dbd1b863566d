"""Stand-in for ``rfc3987_syntax`` inside the kernels of ``tools/run_notebooks.py`` (never installed, never imported
by costlib).

Every chapter imports ``myst_nb.glue``, which imports nbformat, whose jsonschema imports its format checkers; the one
for IRIs imports ``rfc3987_syntax``, which compiles an Earley grammar at import: about 2 s of CPU per kernel (measured
by ``make bench``). jsonschema treats the module as optional (``with suppress(ImportError)``) and the chapters validate
no IRI, so raising ImportError here changes no output. The lasting fix is to drop the ``rfc3987-syntax`` pin from
requirements.txt (it is there only because jupyter-events asks for ``jsonschema[format-nongpl]``).
"""
raise ImportError("rfc3987_syntax is skipped in notebook kernels by tools/run_notebooks.py (an unused IRI validator)")
