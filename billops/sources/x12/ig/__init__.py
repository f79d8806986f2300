"""Implementation-guide validation of X12 transaction sets, driven by pyx12's published maps.

:mod:`maps` compiles a guide's structure from the installed pyx12 package's map XML (read at
run time, never copied here); :mod:`walker` follows the loop tree the way pyx12's walker does;
:mod:`validator` checks elements and the envelope and returns the same result shape as
``billops.sources.x12.validate``.
"""
