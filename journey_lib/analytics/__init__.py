"""Analytics of a touchpoint log: volumes and timelines, date ranges, journey stages and the
progression through them, funnels, paths, retention and churn rate, RFM and loyalty.

Each module holds one concept; the flat API in :mod:`journey_lib` re-exports their public
functions (``jl.funnel``, ``jl.retention``, ...). This package binds no name of its own, so
``journey_lib.analytics.rfm`` is always the module and never the function of the same name.
"""
