"""The standard figures and the HTML report."""
import matplotlib

matplotlib.use("Agg")

import mlsched  # noqa: E402
from mlsched import plot  # noqa: E402


def test_figures_and_html_report(tmp_path):
    w = mlsched.synthetic(jobs=600, nodes=4, tenants=3)
    reports = mlsched.simulate(w, ["fifo", "drf-easy"])
    figs = plot.figures(reports)
    assert set(figs) == {"jct_cdf", "gpu_utilization", "queue_length", "tenant_share"}
    ax = figs["jct_cdf"].axes[0]
    assert len(ax.get_lines()) == 2 and ax.get_legend() is not None
    assert len(figs["tenant_share"].axes[0].collections) == 3  # one band per tenant
    path = plot.html_report(reports, str(tmp_path / "report.html"))
    text = open(path, encoding="utf-8").read()
    assert text.count("data:image/png;base64,") == 4
    assert "drf-easy" in text


def test_report_command_writes_the_page(tmp_path, capsys):
    from mlsched import report

    out = tmp_path / "r.html"
    assert report.main(["--synthetic", "300", "--nodes", "4", "--policies", "fifo,drf", "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    assert out.read_text(encoding="utf-8").count("<img") == 4
