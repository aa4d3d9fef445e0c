"""The standard figures of a policy comparison, with matplotlib.

Each function draws on ``ax`` (a new figure's axes when None) and returns
the axes. ``figures(reports)`` draws all four and returns their figures by
name; ``html_report`` writes them with the comparison table into one page.
"""
from __future__ import annotations

import base64
import html
import io
from typing import Sequence

from . import Report, format_comparison, jobs_frame, series_frame


def _axes(ax):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.figure(figsize=(7, 4)).add_subplot()


def jct_cdf(reports: Sequence[Report], ax=None):
    """Cumulative distribution of job completion time, one line per policy."""
    import numpy as np

    ax = _axes(ax)
    for r in reports:
        jct = jobs_frame(r)["jct"].dropna().to_numpy()
        if len(jct) == 0:
            continue
        x = np.sort(jct) / 3600.0
        ax.plot(x, np.arange(1, len(x) + 1) / len(x), label=r.policy)
    ax.set_xscale("log")
    ax.set_xlabel("job completion time (hours)")
    ax.set_ylabel("fraction of jobs")
    ax.set_title("JCT CDF")
    ax.legend()
    return ax


def _over_time(reports, column, ylabel, title, ax):
    ax = _axes(ax)
    for r in reports:
        s = series_frame(r)
        ax.plot(s["time"] / 3600.0, s[column], label=r.policy)
    ax.set_xlabel("time (hours)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    return ax


def gpu_utilization(reports: Sequence[Report], ax=None):
    """GPUs in use over time, one line per policy."""
    return _over_time(reports, "gpus_used", "GPUs in use", "GPU utilisation over time", ax)


def queue_length(reports: Sequence[Report], ax=None):
    """Pending jobs over time, one line per policy."""
    return _over_time(reports, "pending", "pending jobs", "Queue length over time", ax)


def tenant_share(report: Report, ax=None):
    """GPUs held by each tenant over time (stacked), for one policy."""
    ax = _axes(ax)
    s = series_frame(report)
    cols = [c for c in s.columns if c.startswith("gpus:")]
    if cols:
        ax.stackplot(s["time"] / 3600.0, [s[c] for c in cols], labels=[c[5:] for c in cols])
        ax.legend(loc="upper left", fontsize="small")
    ax.set_xlabel("time (hours)")
    ax.set_ylabel("GPUs")
    ax.set_title(f"Per-tenant GPUs over time ({report.policy})")
    return ax


def figures(reports: Sequence[Report]) -> dict:
    """The four standard figures, by name."""
    out = {}
    for name, draw in (("jct_cdf", jct_cdf), ("gpu_utilization", gpu_utilization),
                       ("queue_length", queue_length)):
        ax = draw(reports)
        out[name] = ax.figure
    out["tenant_share"] = tenant_share(reports[-1]).figure
    return out


def html_report(reports: Sequence[Report], path: str, title: str = "mlsched policy comparison") -> str:
    """Writes the comparison table and the figures (inline PNGs) to ``path``."""
    import matplotlib.pyplot as plt

    parts = [f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title>",
             f"<h1>{html.escape(title)}</h1>", f"<pre>{html.escape(format_comparison(list(reports)))}</pre>"]
    for name, fig in figures(reports).items():
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
        plt.close(fig)
        data = base64.b64encode(buf.getvalue()).decode()
        parts.append(f"<h2>{name.replace('_', ' ')}</h2><img alt='{name}' src='data:image/png;base64,{data}'>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(parts))
    return path
