"""Upload size limit for every form: an upload over ``C360_UPLOAD_MAX_BYTES`` is stopped while
it streams in (nothing of it is kept) and the view is told why through
``request.upload_refused``."""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload


class SizeLimitUploadHandler(FileUploadHandler):
    def __init__(self, request=None) -> None:
        super().__init__(request)
        self.received = 0
        self.limit = settings.C360_UPLOAD_MAX_BYTES

    def _refuse(self, size: int) -> None:
        if self.request is not None:
            self.request.upload_refused = (
                f"The file is larger than the {self.limit / 1024**2:,.0f} MB limit "
                f"(at least {size / 1024**2:,.1f} MB); nothing was imported."
            )
        raise StopUpload(connection_reset=False)

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length and content_length > self.limit + 1024 * 1024:
            self._refuse(content_length)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            self._refuse(self.received)
        return raw_data

    def file_complete(self, file_size: int):
        return None
