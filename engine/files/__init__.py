"""Uploaded files: where their bytes are kept (a folder or an S3-compatible store), what may be
uploaded to a field, and who may read them — readers of the record that holds them."""

from engine.files.service import FileRefused, FileService, StoredFile
from engine.files.stores import FileStore, LocalFileStore, MissingFile, file_store_for

__all__ = [
    "FileRefused",
    "FileService",
    "FileStore",
    "LocalFileStore",
    "MissingFile",
    "StoredFile",
    "file_store_for",
]
