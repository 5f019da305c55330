"""Load the demo catalogue and a demo merchant login. Safe to run again: it updates in place."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from orders.illustrations import illustration_svg
from orders.models import Product
from orders.services.product_images import product_set_image


@dataclass(frozen=True)
class DemoProduct:
    sku: str
    name: str
    name_ja: str
    price: int
    stock: int
    motif: str
    description: str
    description_ja: str
    digital: bool = False


DEMO_PRODUCTS = [
    DemoProduct(
        "TEA-SENCHA-100",
        "Sencha green tea 100 g",
        "煎茶 100g",
        1500,
        40,
        "sencha",
        "First-flush sencha from Shizuoka: fresh, grassy and gently sweet.",
        "静岡産の一番茶。みずみずしい香りと、やさしい甘みの煎茶です。",
    ),
    DemoProduct(
        "TEA-MATCHA-30",
        "Ceremonial matcha 30 g",
        "抹茶 30g",
        3200,
        25,
        "matcha",
        "Stone-ground matcha from Uji for usucha and koicha.",
        "宇治の石臼挽き抹茶。薄茶にも濃茶にもお使いいただけます。",
    ),
    DemoProduct(
        "TEA-HOJICHA-200",
        "Hojicha roasted tea 200 g",
        "ほうじ茶 200g",
        1800,
        30,
        "hojicha",
        "Roasted over a slow flame: toasty, low in caffeine, good any time of day.",
        "じっくり焙じた香ばしいお茶。カフェインが少なく、いつでも楽しめます。",
    ),
    DemoProduct(
        "CUP-YUNOMI",
        "Arita porcelain yunomi",
        "有田焼 湯呑み",
        4800,
        12,
        "yunomi",
        "A tall porcelain cup hand-painted in indigo by a workshop in Arita.",
        "有田の窯元で一つずつ絵付けした、藍色の模様の湯呑みです。",
    ),
    DemoProduct(
        "POT-KYUSU",
        "Tokoname kyusu teapot",
        "常滑焼 急須",
        12800,
        6,
        "kyusu",
        "A side-handled clay teapot with a fine built-in strainer.",
        "細かな茶こし付きの、常滑焼の横手急須です。",
    ),
    DemoProduct(
        "WHISK-CHASEN",
        "Bamboo matcha whisk",
        "茶筅",
        2600,
        20,
        "chasen",
        "Carved from a single piece of bamboo in Takayama, Nara.",
        "奈良・高山で一本の竹から削り出した茶筅です。",
    ),
    DemoProduct(
        "BOWL-CHAWAN",
        "Raku tea bowl",
        "楽焼 茶碗",
        38000,
        3,
        "chawan",
        "A hand-formed raku bowl; each one's glaze is different.",
        "手づくねの楽焼茶碗。釉薬の景色は一つひとつ異なります。",
    ),
    DemoProduct(
        "SET-GIFT-DELUXE",
        "Deluxe tea gift set",
        "高級茶ギフトセット",
        68000,
        5,
        "gift",
        "Sencha, matcha and a yunomi in a paulownia box, wrapped with noshi.",
        "煎茶・抹茶・湯呑みを桐箱に詰め合わせ、のし紙でお包みします。",
    ),
    DemoProduct(
        "SNACK-WAGASHI",
        "Seasonal wagashi box",
        "季節の和菓子",
        2400,
        15,
        "wagashi",
        "Six sweets of the season from a Kyoto confectioner.",
        "京都の和菓子店がつくる、季節の和菓子6個入りです。",
    ),
    DemoProduct(
        "TOWEL-TENUGUI",
        "Cotton tenugui towel",
        "手ぬぐい",
        1200,
        50,
        "tenugui",
        "Dyed by hand in the chusen way; softer with every wash.",
        "注染で一枚ずつ染めた手ぬぐい。洗うほどに柔らかくなります。",
    ),
    DemoProduct(
        "BOOK-TEA-EBOOK",
        "The tea ceremony, e-book",
        "茶道入門（電子書籍）",
        980,
        9999,
        "ebook",
        "An illustrated introduction to the tea ceremony (PDF and EPUB).",
        "図解でわかる茶道の入門書です（PDF・EPUB）。",
        digital=True,
    ),
    DemoProduct(
        "CLASS-ONLINE",
        "Online tea class ticket",
        "オンライン茶道教室",
        5500,
        100,
        "online_class",
        "One 60-minute live class with a tea teacher, by video call.",
        "茶道の先生とビデオ通話でつなぐ、60分のライブレッスン1回分です。",
        digital=True,
    ),
]

DEMO_MERCHANT = ("merchant", "merchant@example.com", "payops-demo")


class Command(BaseCommand):
    help = "Load the demo catalogue (JPY, with descriptions and pictures) and create the demo merchant login."

    def handle(self, *args: object, **options: object) -> None:
        for demo in DEMO_PRODUCTS:
            described = {
                "name": demo.name,
                "name_ja": demo.name_ja,
                "description": demo.description,
                "description_ja": demo.description_ja,
                "price_amount": demo.price,
                "currency": "JPY",
                "is_digital": demo.digital,
            }
            product, _ = Product.objects.update_or_create(
                sku=demo.sku,
                defaults={**described, "is_active": True},
                # Stock is only set the first time: a re-run must not undo sales or reservations.
                create_defaults={**described, "stock_on_hand": demo.stock},
            )
            if not product.image.name or not product.image.storage.exists(product.image.name):
                product_set_image(
                    product_id=product.pk, filename=f"{demo.sku.lower()}.svg", content=illustration_svg(demo.motif)
                )
        username, email, password = DEMO_MERCHANT
        user_model = get_user_model()
        if not user_model.objects.filter(username=username).exists():
            user_model.objects.create_superuser(username=username, email=email, password=password)
        self.stdout.write(f"demo catalogue: {len(DEMO_PRODUCTS)} products; merchant login: {username} / {password}")
