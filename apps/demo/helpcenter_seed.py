"""The demo's help center: the shop's most frequent questions, each in Spanish and English,
published and linked as translations (docs/helpcenter.md). Idempotent: an article is found by
its language and slug, a category by its slug; nothing is written twice."""
from apps.helpcenter import services
from apps.helpcenter.models import Article, Category

CATEGORIES = [
    ("pedidos-envios", "Orders and shipping", "Pedidos y envíos", 10),
    ("devoluciones", "Returns and refunds", "Devoluciones y reembolsos", 20),
    ("pagos", "Payments", "Pagos", 30),
    ("cuenta", "Your account", "Tu cuenta", 40),
]

# (category, (es slug, es title, es body), (en slug, en title, en body))
ARTICLES = [
    ("pedidos-envios",
     ("plazos-de-envio", "Plazos de envío",
      "<p>Preparamos los pedidos en <strong>24 horas laborables</strong>. La entrega en la Península tarda de 2 a 4 días "
      "laborables; en Baleares, Canarias, Ceuta y Melilla, de 4 a 7.</p><ul><li>Envío estándar: gratis a partir de 50 €.</li>"
      "<li>Envío urgente (24 h): 6,95 €.</li></ul><p>Recibirás un correo con el número de seguimiento cuando el paquete salga del almacén.</p>"),
     ("shipping-times", "Shipping times",
      "<p>We prepare orders within <strong>24 working hours</strong>. Delivery to mainland Spain takes 2 to 4 working days; "
      "to the Balearic and Canary Islands, Ceuta and Melilla, 4 to 7.</p><ul><li>Standard shipping: free over €50.</li>"
      "<li>Express shipping (24 h): €6.95.</li></ul><p>You get an email with the tracking number when the parcel leaves the warehouse.</p>")),
    ("pedidos-envios",
     ("seguimiento-del-pedido", "¿Dónde está mi pedido? Seguimiento",
      "<p>Abre el enlace de seguimiento del correo de envío, o entra en <em>Mi cuenta → Pedidos</em> y pulsa "
      "<strong>Seguir el paquete</strong>.</p><p>Si el seguimiento no cambia en 48 horas o el pedido no ha llegado en el plazo, "
      "escríbenos con el número de pedido y lo reclamamos al transportista.</p>"),
     ("order-tracking", "Where is my order? Tracking",
      "<p>Open the tracking link in the shipping email, or go to <em>My account → Orders</em> and click "
      "<strong>Track parcel</strong>.</p><p>If the tracking has not changed for 48 hours or the order has not arrived on time, "
      "write to us with the order number and we will claim it from the carrier.</p>")),
    ("devoluciones",
     ("devoluciones-y-reembolsos", "Devoluciones y reembolsos",
      "<p>Tienes <strong>30 días</strong> desde la entrega para devolver un artículo sin usar y con su etiqueta.</p>"
      "<ol><li>Entra en <em>Mi cuenta → Pedidos</em> y pulsa <strong>Devolver</strong>.</li><li>Imprime la etiqueta "
      "y lleva el paquete a una oficina de Correos.</li></ol><p>El reembolso llega al mismo medio de pago en un máximo de "
      "14 días desde que recibimos la devolución.</p>"),
     ("returns-and-refunds", "Returns and refunds",
      "<p>You have <strong>30 days</strong> from delivery to return an unused item with its label.</p>"
      "<ol><li>Go to <em>My account → Orders</em> and click <strong>Return</strong>.</li><li>Print the label and take the "
      "parcel to a post office.</li></ol><p>The refund goes back to the same payment method within 14 days of receiving the return.</p>")),
    ("devoluciones",
     ("producto-danado", "He recibido un producto dañado o equivocado",
      "<p>Lo sentimos. Escríbenos en las 48 horas siguientes a la entrega con una foto del producto y del paquete; "
      "te enviamos uno nuevo sin coste o te devolvemos el importe, como prefieras.</p>"),
     ("damaged-item", "I received a damaged or wrong item",
      "<p>We are sorry. Write to us within 48 hours of delivery with a photo of the item and the parcel; "
      "we send a new one free of charge or refund you, as you prefer.</p>")),
    ("pagos",
     ("metodos-de-pago", "Métodos de pago",
      "<p>Aceptamos tarjeta (Visa, Mastercard, American Express), PayPal, Bizum y transferencia bancaria.</p>"
      "<p>El cargo en tarjeta se hace al enviar el pedido. Las transferencias se confirman en 1 o 2 días laborables.</p>"),
     ("payment-methods", "Payment methods",
      "<p>We accept cards (Visa, Mastercard, American Express), PayPal, Bizum and bank transfer.</p>"
      "<p>Cards are charged when the order ships. Bank transfers are confirmed within 1 or 2 working days.</p>")),
    ("pagos",
     ("factura", "Cómo obtener la factura",
      "<p>La factura de cada pedido está en <em>Mi cuenta → Pedidos → Descargar factura</em>. Si necesitas una factura "
      "a nombre de una empresa, escríbenos con el CIF antes de que se envíe el pedido.</p>"),
     ("invoice", "How to get your invoice",
      "<p>Each order's invoice is in <em>My account → Orders → Download invoice</em>. If you need an invoice in a "
      "company's name, write to us with its tax number before the order ships.</p>")),
    ("cuenta",
     ("restablecer-contrasena", "Restablecer la contraseña",
      "<p>En la página de acceso pulsa <strong>¿Has olvidado tu contraseña?</strong>, escribe tu correo y abre el enlace "
      "que te enviamos (vale 24 horas).</p><p>¿No llega el correo? Revisa la carpeta de spam o escríbenos desde el correo de tu cuenta.</p>"),
     ("reset-password", "Reset your password",
      "<p>On the sign-in page click <strong>Forgot your password?</strong>, type your email and open the link we send "
      "you (it works for 24 hours).</p><p>No email? Check your spam folder or write to us from your account's address.</p>")),
    ("cuenta",
     ("cancelar-pedido", "Cancelar o cambiar un pedido",
      "<p>Puedes cancelar un pedido o cambiar la dirección de entrega desde <em>Mi cuenta → Pedidos</em> mientras esté "
      "<em>En preparación</em>. Una vez enviado, recházalo en la entrega o haz una devolución.</p>"),
     ("cancel-order", "Cancel or change an order",
      "<p>You can cancel an order or change its delivery address from <em>My account → Orders</em> while it is "
      "<em>Being prepared</em>. Once shipped, refuse it on delivery or return it.</p>")),
]


def helpcenter_seed(*, author) -> int:
    """Categories and published article pairs; returns how many articles were created."""
    categories = {}
    for slug, name_en, name_es, position in CATEGORIES:
        categories[slug], _created = Category.objects.get_or_create(
            slug=slug, defaults={"name_en": name_en, "name_es": name_es, "position": position})
    created = 0
    for category, (es_slug, es_title, es_body), (en_slug, en_title, en_body) in ARTICLES:
        es = Article.objects.filter(language="es", slug=es_slug).first()
        if es is None:
            es = services.article_create(author=author, language="es", title=es_title, body=es_body, slug=es_slug,
                                         category=categories[category], status=Article.Status.PUBLISHED)
            created += 1
        if not Article.objects.filter(language="en", slug=en_slug).exists():
            services.article_create(author=author, language="en", title=en_title, body=en_body, slug=en_slug,
                                    category=categories[category], status=Article.Status.PUBLISHED, translation_of=es)
            created += 1
    return created
