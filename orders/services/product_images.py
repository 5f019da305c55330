"""Product images, kept through Django's storage API so the backend (disk, object storage) is a setting."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.db import transaction

from orders.models import Product
from payops.media import ALLOWED_IMAGE_TYPES


@transaction.atomic
def product_set_image(*, product_id: int, filename: str, content: bytes) -> Product:
    """Store ``content`` as the product's image, replacing (and deleting) the one it had."""
    suffix = filename[filename.rfind(".") :].lower() if "." in filename else ""
    if suffix not in ALLOWED_IMAGE_TYPES:
        raise ValueError(f"product images must be one of {', '.join(sorted(ALLOWED_IMAGE_TYPES))}")
    product = Product.objects.select_for_update().get(pk=product_id)
    previous = product.image.name if product.image else ""
    product.image.save(filename, ContentFile(content), save=False)
    product.save(update_fields=["image", "updated_at"])
    if previous and previous != product.image.name:
        storage = product.image.storage
        # Deleted once the new name is committed, so a rollback never leaves a product without its file.
        transaction.on_commit(lambda: storage.delete(previous))
    return product
