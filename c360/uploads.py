"""Upload size limit for every form: an upload over ``C360_UPLOAD_MAX_BYTES`` is stopped while
it streams in (nothing of it is kept) and the view is told why through
``request.upload_refused``.

The refusal always happens inside a file part (``new_file``/``receive_data_chunk``), where
Django's parser catches ``StopUpload``, reads the rest of the body away and keeps the form's
other fields; raised from ``handle_raw_input`` it would escape the parser as a 500."""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

# Multipart framing and the form's other fields: a request this much over the limit is over it
# whatever its file's own size.
FRAMING_BYTES = 1024 * 1024


def upload_limit_text(limit: int | None = None) -> str:
    """The limit as people read it: "200 MB" (MiB, as the size checks count)."""
    limit = settings.C360_UPLOAD_MAX_BYTES if limit is None else limit
    if limit >= 1024**2:
        return f"{limit / 1024**2:,.0f} MB"
    return f"{limit / 1024:,.0f} KB" if limit >= 1024 else f"{limit} bytes"


class SizeLimitUploadHandler(FileUploadHandler):
    def __init__(self, request=None) -> None:
        super().__init__(request)
        self.received = 0
        self.limit = settings.C360_UPLOAD_MAX_BYTES
        self.declared = 0  # the request's Content-Length when it alone is over the limit

    def _refuse(self, declared: int = 0) -> None:
        if self.request is not None:
            size = f" (the upload is {declared / 1024**2:,.1f} MB)" if declared else ""
            self.request.upload_refused = (
                f"The file is larger than the {upload_limit_text(self.limit)} upload limit{size}; "
                "nothing was imported."
            )
        raise StopUpload(connection_reset=False)

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length and content_length > self.limit + FRAMING_BYTES:
            self.declared = content_length  # refused at the first file part, before its data

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        if self.declared:
            self._refuse(self.declared)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            self._refuse()
        return raw_data

    def file_complete(self, file_size: int):
        return None
