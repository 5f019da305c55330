"""Load the demo catalogue and a demo merchant login. Safe to run again: it updates in place."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from orders.models import Product

DEMO_PRODUCTS = [
    ("TEA-SENCHA-100", "Sencha green tea 100 g", "煎茶 100g", 1500, 40, False),
    ("TEA-MATCHA-30", "Ceremonial matcha 30 g", "抹茶 30g", 3200, 25, False),
    ("TEA-HOJICHA-200", "Hojicha roasted tea 200 g", "ほうじ茶 200g", 1800, 30, False),
    ("CUP-YUNOMI", "Arita porcelain yunomi", "有田焼 湯呑み", 4800, 12, False),
    ("POT-KYUSU", "Tokoname kyusu teapot", "常滑焼 急須", 12800, 6, False),
    ("WHISK-CHASEN", "Bamboo matcha whisk", "茶筅", 2600, 20, False),
    ("BOWL-CHAWAN", "Raku tea bowl", "楽焼 茶碗", 38000, 3, False),
    ("SET-GIFT-DELUXE", "Deluxe tea gift set", "高級茶ギフトセット", 68000, 5, False),
    ("SNACK-WAGASHI", "Seasonal wagashi box", "季節の和菓子", 2400, 15, False),
    ("TOWEL-TENUGUI", "Cotton tenugui towel", "手ぬぐい", 1200, 50, False),
    ("BOOK-TEA-EBOOK", "The tea ceremony, e-book", "茶道入門（電子書籍）", 980, 9999, True),
    ("CLASS-ONLINE", "Online tea class ticket", "オンライン茶道教室", 5500, 100, True),
]

DEMO_MERCHANT = ("merchant", "merchant@example.com", "payops-demo")


class Command(BaseCommand):
    help = "Load the demo catalogue (JPY) and create the demo merchant login."

    def handle(self, *args: object, **options: object) -> None:
        for sku, name, name_ja, price, stock, digital in DEMO_PRODUCTS:
            Product.objects.update_or_create(
                sku=sku,
                defaults={
                    "name": name,
                    "name_ja": name_ja,
                    "price_amount": price,
                    "currency": "JPY",
                    "is_digital": digital,
                    "is_active": True,
                },
                # Stock is only set the first time: a re-run must not undo sales or reservations.
                create_defaults={
                    "name": name,
                    "name_ja": name_ja,
                    "price_amount": price,
                    "currency": "JPY",
                    "is_digital": digital,
                    "stock_on_hand": stock,
                },
            )
        username, email, password = DEMO_MERCHANT
        user_model = get_user_model()
        if not user_model.objects.filter(username=username).exists():
            user_model.objects.create_superuser(username=username, email=email, password=password)
        self.stdout.write(f"demo catalogue: {len(DEMO_PRODUCTS)} products; merchant login: {username} / {password}")
