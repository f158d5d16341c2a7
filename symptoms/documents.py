"""The doctor report as a PDF (WeasyPrint), from the same template as the printable page."""

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string


def report_pdf(*, context) -> bytes:
    # Imported here: WeasyPrint needs Pango from the system, and only this view needs it.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    css = finders.find("css/report.css")
    html = render_to_string(
        "symptoms/report_document.html",
        {**context, "report_css": f"file://{css}", "for_pdf": True},
    )
    # Only local files: the PDF renderer must never reach the network.
    fetcher = URLFetcher(allowed_protocols={"file"})
    # PDF/UA: a tagged PDF (headings, lists, tables, reading order) that screen readers and
    # EHR document viewers can read; it also needs the title and language the page sets.
    return HTML(string=html, url_fetcher=fetcher, base_url="file:///").write_pdf(
        pdf_variant="pdf/ua-1"
    )
