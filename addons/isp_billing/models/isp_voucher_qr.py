"""QR codes for printed voucher cards, small enough for wkhtmltopdf's PDF engine.

Qt's PDF engine (wkhtmltopdf) stores an image's colours as JPEG and its transparency as a
lossless soft mask. A QR code drawn as black on a transparent background keeps its pattern
in the mask: sharp, and about 1.5 kB a card at QR_SCALE pixels a module, where a 300 x 300 px
opaque PNG (Odoo's barcode widget) is stored as a 36 kB JPEG.
"""

import io

from PIL import Image
from reportlab.graphics.barcode import qrencoder

QR_SCALE = 4  # pixels a module: 150-250 dpi at the 20-34 mm a card prints it
QR_BORDER = 2  # modules of quiet zone around the code (the card's margin adds to it)


def qr_png(value, scale=QR_SCALE, border=QR_BORDER):
    """``value`` as a QR code (error correction M, ISO 18004): PNG bytes, black modules on a
    transparent background, ``scale`` pixels a module and ``border`` modules of margin."""
    qr = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    qr.addData(value)
    qr.make()
    count = qr.getModuleCount()
    side = count + 2 * border
    alpha = bytearray(side * side)
    for row, modules in enumerate(qr.modules):
        offset = (row + border) * side + border
        for col, dark in enumerate(modules):
            if dark:
                alpha[offset + col] = 255
    mask = Image.frombytes("L", (side, side), bytes(alpha))
    image = Image.new("LA", (side, side), (0, 0))
    image.putalpha(mask)
    image = image.resize((side * scale, side * scale), Image.Resampling.NEAREST)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()
