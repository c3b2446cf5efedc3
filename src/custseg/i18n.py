"""The translation catalogue (English, French) and locale-aware formatting.

Every word the report, its captions and its figures show lives in
:data:`CATALOGUE`, one dict per language with the same keys. Keys are dotted
(``section.data.title``, ``segment.champions.action``); values are
:meth:`str.format` templates whose fields are filled with already formatted
strings (use :meth:`Translator.number`, :meth:`Translator.money`, ...).

French strings are written with ordinary spaces in the catalogue; French
typography (non-breaking space before ``:`` and inside « », narrow
non-breaking space before ``; ! ?`` and ``%``) is applied once when the module
is loaded, so the catalogue stays readable.

Numbers: English ``1,234.5``; French ``1 234,5`` with a narrow non-breaking
space (U+202F) as thousands separator. Money is pound sterling: English
``£1,234.50``, French ``1 234,50 £`` (U+00A0 before the symbol). Percentages:
``12.5%`` / ``12,5 %``. Dates: ``9 Dec 2011`` / ``9 déc. 2011``
(``1er déc. 2011`` on the first of the month).
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from custseg.errors import ParameterError

__all__ = ["CATALOGUE", "LANGUAGES", "Translator"]

LANGUAGES = ("en", "fr")
"""Supported report languages; the first one is the default."""

NBSP = "\u00a0"
NNBSP = "\u202f"  # narrow no-break space (French thousands separator)

_MONTHS_LONG = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "fr": (
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ),
}
_MONTHS = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "fr": (
        "janv.",
        "févr.",
        "mars",
        "avr.",
        "mai",
        "juin",
        "juil.",
        "août",
        "sept.",
        "oct.",
        "nov.",
        "déc.",
    ),
}

# ---------------------------------------------------------------------------
# The catalogue
# ---------------------------------------------------------------------------

_EN: dict[str, str] = {
    # report frame
    "report.title": "Customer segmentation report",
    "report.subtitle": "{dataset}, {start} to {end}",
    "report.generated": "Generated on {date} by custseg {version}.",
    "report.contents": "Contents",
    "report.figure": "Figure {n}",
    "report.table": "Table {n}",
    "report.figure_alt": "{title} (figure)",
    "report.figure_heading": "{label}: {title}",
    "report.not_available": "–",
    # sections, in the report's order
    "section.data.title": "Data and anomalies",
    "section.preprocessing.title": "Preprocessing",
    "section.methods.title": "Segmentation methods",
    "section.hyperparameters.title": "Choosing hyper-parameters",
    "section.segments.title": "Segments, interpretation and marketing actions",
    "section.comparison.title": "Comparison of methods",
    "section.appendix.title": "Appendix: parameters, versions, timings",
    # data section
    "data.intro": (
        "The transaction log holds {lines} lines: {orders} orders from {customers} customers "
        "in {countries} countries, from {start} to {end}, for a net revenue of {revenue}."
    ),
    "data.heading.key_figures": "Key figures",
    "data.heading.anomalies": "Anomalies found by the audit",
    "data.anomalies.intro": (
        "A line can show several anomalies, so the rows do not add up. Shares are of all "
        "{lines} lines; revenue is the net total of the lines concerned."
    ),
    "data.heading.distributions": "Quantities, prices and totals",
    "data.distributions.intro": (
        "Histograms and box plots use the strictly positive values only and log scales: "
        "{excluded} lines with a zero, negative or missing quantity are left out of the "
        "quantity figures, {excluded_price} lines out of the unit price figures."
    ),
    "data.heading.time": "Activity over time",
    "data.heading.countries": "Countries",
    "data.countries.intro": (
        "The ten largest markets by revenue; the {n} other countries are grouped under “Other”."
    ),
    "kf.lines": "Transaction lines",
    "kf.orders": "Orders (invoices)",
    "kf.customers": "Identified customers",
    "kf.countries": "Countries",
    "kf.period": "Period",
    "kf.period_value": "{start} to {end}",
    "kf.revenue": "Net revenue",
    "kf.median_line": "Median line total",
    "kf.median_order": "Median order total",
    "table.key_figures.title": "The transaction log at a glance",
    "table.findings.title": "Anomalies: rows and revenue concerned",
    "table.countries.title": "Revenue, customers and orders by country",
    "col.indicator": "Indicator",
    "col.value": "Value",
    "col.finding": "Anomaly",
    "col.rows": "Rows",
    "col.row_share": "Share of rows",
    "col.revenue": "Revenue",
    "col.meaning": "What it means",
    "col.country": "Country",
    "col.revenue_share": "Share of revenue",
    "col.customers": "Customers",
    "col.orders": "Orders",
    "col.parameter": "Parameter",
    "col.library": "Software",
    "col.version": "Version",
    "col.step": "Step",
    "col.time": "Time",
    # figures: titles and captions
    "fig.line_histograms.title": "Distribution of quantities, prices and totals",
    "fig.line_histograms.caption": (
        "Log scales, so that values spread over several orders of magnitude stay readable: "
        "look where the mass sits and how long the right tail is; the median line is worth "
        "{median_line}, the median order {median_order}."
    ),
    "fig.line_boxplots.title": "Extreme values",
    "fig.line_boxplots.caption": (
        "Boxes hold the middle half of the values (bar: median, diamond: mean) and whiskers "
        "reach 1.5 × IQR on the log scale; look at the points beyond them: {n_high} lines "
        "have a quantity above {fence} units."
    ),
    "fig.monthly.title": "Monthly revenue, orders and active customers",
    "fig.monthly.caption": (
        "Look for seasonality: the busiest month is {peak_month} with {peak_revenue}."
    ),
    "fig.monthly.caption_partial": (
        "Look for seasonality: the busiest month is {peak_month} with {peak_revenue}; "
        "hatched bars are incomplete months (the data end on {end})."
    ),
    "fig.countries.title": "Revenue by country",
    "fig.countries.caption": (
        "The largest market, {country}, alone brings {share} of the revenue; the axis is "
        "logarithmic so that the smaller markets stay visible."
    ),
    "fig.findings.title": "Anomalies found by the audit",
    "fig.findings.caption": (
        "Rows (log scale) and net revenue concerned by each anomaly: “{finding}” affects "
        "the most rows ({rows})."
    ),
    "fig.features.title": "Customer features before and after transformation",
    "fig.features.caption": (
        "Compare the skewness (0 = symmetric) before the transformation ({skew_before}) and "
        "after it ({skew_after}): distance-based clustering works best on roughly symmetric "
        "features."
    ),
    # preprocessing section
    "preprocessing.intro": (
        "Segmentation works on one row per customer. Recency, frequency and monetary value "
        "are right-skewed: a few customers order far more often and spend far more than the "
        "rest and would dominate every distance. They are therefore transformed ({method}) "
        "before clustering."
    ),
    "transform.log": "log(1 + x) on the skewed features, then standardisation",
    "transform.yeo-johnson": "Yeo-Johnson power transform, then standardisation",
    # variables: label and unit
    "var.quantity.label": "Quantity per line",
    "var.quantity.unit": "units",
    "var.unit_price.label": "Unit price",
    "var.unit_price.unit": "£",
    "var.amount.label": "Line total",
    "var.amount.unit": "£",
    "var.order_total.label": "Order total",
    "var.order_total.unit": "£",
    "var.recency.label": "Recency",
    "var.recency.unit": "days",
    "var.frequency.label": "Frequency",
    "var.frequency.unit": "orders",
    "var.monetary.label": "Monetary value",
    "var.monetary.unit": "£",
    "var.tenure.label": "Tenure",
    "var.tenure.unit": "days",
    "var.avg_order_value.label": "Average order value",
    "var.avg_order_value.unit": "£",
    "var.items_per_order.label": "Items per order",
    "var.items_per_order.unit": "units",
    "var.distinct_products.label": "Distinct products",
    "var.distinct_products.unit": "products",
    "var.return_rate.label": "Return rate",
    "var.return_rate.unit": "%",
    # axis labels
    "axis.with_unit": "{label} ({unit})",
    "axis.with_unit_log": "{label} ({unit}, log scale)",
    "axis.transformed": "{label}, transformed",
    "axis.lines_per_bin": "Lines per bin",
    "axis.orders_per_bin": "Orders per bin",
    "axis.customers_per_bin": "Customers",
    "axis.revenue": "Revenue (£)",
    "axis.revenue_log": "Revenue (£, log scale)",
    "axis.net_revenue": "Net revenue (£)",
    "axis.orders": "Orders",
    "axis.active_customers": "Active customers",
    "axis.rows_log": "Rows (log scale)",
    # legends and labels inside figures
    "legend.density": "Smoothed density",
    "legend.partial_month": "Incomplete month",
    "label.other_countries": "Other ({n} countries)",
    "label.unknown_country": "Unknown",
    "label.outliers": "{high} above, {low} below the whiskers",
    "label.skew": "skewness {value}",
    "label.before": "Before",
    "label.after": "After",
    "label.list_separator": "; ",
    # appendix
    "appendix.parameters": "Parameters",
    "appendix.versions": "Software versions",
    "appendix.timings": "Timings",
    "table.parameters.title": "Parameters of the run",
    "table.versions.title": "Versions of the software used",
    "table.timings.title": "Time spent building this report",
    "timing.data_figures": "Figures: data and anomalies",
    "timing.preprocessing_figures": "Figures: preprocessing",
    "timing.total": "Total",
    "unit.seconds": "{value} s",
    # RFM segments: name, who they are, what to do
    "segment.champions.name": "Champions",
    "segment.champions.description": "Bought recently, buy often and spend the most.",
    "segment.champions.action": (
        "Reward them: early access to new products, loyalty perks, ask for reviews and "
        "referrals; no discount needed."
    ),
    "segment.loyal_customers.name": "Loyal customers",
    "segment.loyal_customers.description": "Buy regularly and spend well.",
    "segment.loyal_customers.action": (
        "Upsell higher-value products, enrol them in a loyalty programme, ask for reviews."
    ),
    "segment.potential_loyalists.name": "Potential loyalists",
    "segment.potential_loyalists.description": (
        "Recent customers with several orders and a good spend."
    ),
    "segment.potential_loyalists.action": (
        "Offer membership of the loyalty programme and recommend related products."
    ),
    "segment.new_customers.name": "New customers",
    "segment.new_customers.description": "Bought very recently, for the first time or nearly.",
    "segment.new_customers.action": (
        "Welcome series, follow-up on the first order, help with the second purchase."
    ),
    "segment.promising.name": "Promising",
    "segment.promising.description": "Recent shoppers who have not spent much yet.",
    "segment.promising.action": (
        "Build awareness of the range: samples, free shipping threshold, a modest incentive "
        "to reorder."
    ),
    "segment.need_attention.name": "Need attention",
    "segment.need_attention.description": (
        "Above-average frequency and spend, but no recent purchase."
    ),
    "segment.need_attention.action": (
        "Limited-time offers and recommendations based on their past purchases."
    ),
    "segment.about_to_sleep.name": "About to sleep",
    "segment.about_to_sleep.description": (
        "Below-average recency, frequency and spend: slipping away."
    ),
    "segment.about_to_sleep.action": (
        "Reconnect with best-sellers and a personalised discount before they lapse."
    ),
    "segment.at_risk.name": "At risk",
    "segment.at_risk.description": "Bought often and spent well, but a long time ago.",
    "segment.at_risk.action": (
        "Personalised win-back e-mails, renewal offers, a reminder of what they used to buy."
    ),
    "segment.cant_lose_them.name": "Can’t lose them",
    "segment.cant_lose_them.description": (
        "Among the biggest and most frequent buyers, but silent for a long time."
    ),
    "segment.cant_lose_them.action": (
        "Contact them personally (call, survey), make a strong offer, show the new products."
    ),
    "segment.hibernating.name": "Hibernating",
    "segment.hibernating.description": "Last purchase long ago, few orders, low spend.",
    "segment.hibernating.action": (
        "Low-cost campaigns only: relevant products and seasonal discounts."
    ),
    "segment.lost.name": "Lost",
    "segment.lost.description": "Lowest recency, frequency and spend.",
    "segment.lost.action": ("One reactivation campaign at most, then stop spending on them."),
    # audit findings: name and meaning
    "finding.missing_customer_id.name": "Missing customer id",
    "finding.missing_customer_id.description": (
        "Cannot be attributed to a customer, so left out of the segmentation."
    ),
    "finding.cancellation_lines.name": "Cancellations",
    "finding.cancellation_lines.description": (
        "Invoices starting with “C”: they cancel all or part of an earlier order."
    ),
    "finding.negative_quantity.name": "Negative quantity",
    "finding.negative_quantity.description": "Returns, cancellations and stock corrections.",
    "finding.zero_price.name": "Zero unit price",
    "finding.zero_price.description": ("Free items, samples or stock adjustments: no revenue."),
    "finding.negative_price.name": "Negative unit price",
    "finding.negative_price.description": "Accounting entries, not sales.",
    "finding.bad_debt_adjustment.name": "Bad-debt adjustment",
    "finding.bad_debt_adjustment.description": (
        "Invoices starting with “A”: accounting write-offs, not sales."
    ),
    "finding.exact_duplicates.name": "Exact duplicates",
    "finding.exact_duplicates.description": (
        "Identical on every column: most likely recorded twice."
    ),
    "finding.non_product_codes.name": "Non-product codes",
    "finding.non_product_codes.description": (
        "Postage, manual entries, discounts, bank charges and fees (POST, M, D, DOT…)."
    ),
    "finding.extreme_quantity.name": "Extreme quantity",
    "finding.extreme_quantity.description": (
        "Far above the usual quantities; often cancelled shortly afterwards."
    ),
    "finding.extreme_order_value.name": "Extreme order value",
    "finding.extreme_order_value.description": (
        "Orders worth far more than usual; check them before trusting totals."
    ),
}

_FR: dict[str, str] = {
    # report frame
    "report.title": "Rapport de segmentation de la clientèle",
    "report.subtitle": "{dataset}, du {start} au {end}",
    "report.generated": "Généré le {date} par custseg {version}.",
    "report.contents": "Sommaire",
    "report.figure": "Figure {n}",
    "report.table": "Tableau {n}",
    "report.figure_alt": "{title} (graphique)",
    "report.figure_heading": "{label} : {title}",
    "report.not_available": "–",
    # sections
    "section.data.title": "Données et anomalies",
    "section.preprocessing.title": "Préparation des données",
    "section.methods.title": "Méthodes de segmentation",
    "section.hyperparameters.title": "Choix des hyperparamètres",
    "section.segments.title": "Segments, interprétation et actions marketing",
    "section.comparison.title": "Comparaison des méthodes",
    "section.appendix.title": "Annexe : paramètres, versions, durées",
    # data section
    "data.intro": (
        "Le journal des transactions compte {lines} lignes : {orders} commandes de "
        "{customers} clients dans {countries} pays, du {start} au {end}, pour un chiffre "
        "d’affaires net de {revenue}."
    ),
    "data.heading.key_figures": "Chiffres clés",
    "data.heading.anomalies": "Anomalies relevées par l’audit",
    "data.anomalies.intro": (
        "Une ligne peut présenter plusieurs anomalies : les lignes ne s’additionnent donc "
        "pas. Les parts sont calculées sur l’ensemble des {lines} lignes ; le chiffre "
        "d’affaires est le total net des lignes concernées."
    ),
    "data.heading.distributions": "Quantités, prix et montants",
    "data.distributions.intro": (
        "Les histogrammes et les boîtes à moustaches ne retiennent que les valeurs "
        "strictement positives, sur des échelles logarithmiques : {excluded} lignes de "
        "quantité nulle, négative ou manquante sont écartées des figures de quantité, "
        "{excluded_price} lignes des figures de prix unitaire."
    ),
    "data.heading.time": "Activité dans le temps",
    "data.heading.countries": "Pays",
    "data.countries.intro": (
        "Les dix premiers marchés par chiffre d’affaires ; les {n} autres pays sont "
        "regroupés sous « Autres »."
    ),
    "kf.lines": "Lignes de transaction",
    "kf.orders": "Commandes (factures)",
    "kf.customers": "Clients identifiés",
    "kf.countries": "Pays",
    "kf.period": "Période",
    "kf.period_value": "du {start} au {end}",
    "kf.revenue": "Chiffre d’affaires net",
    "kf.median_line": "Montant médian d’une ligne",
    "kf.median_order": "Montant médian d’une commande",
    "table.key_figures.title": "Le journal des transactions en bref",
    "table.findings.title": "Anomalies : lignes et chiffre d’affaires concernés",
    "table.countries.title": "Chiffre d’affaires, clients et commandes par pays",
    "col.indicator": "Indicateur",
    "col.value": "Valeur",
    "col.finding": "Anomalie",
    "col.rows": "Lignes",
    "col.row_share": "Part des lignes",
    "col.revenue": "Chiffre d’affaires",
    "col.meaning": "Signification",
    "col.country": "Pays",
    "col.revenue_share": "Part du chiffre d’affaires",
    "col.customers": "Clients",
    "col.orders": "Commandes",
    "col.parameter": "Paramètre",
    "col.library": "Logiciel",
    "col.version": "Version",
    "col.step": "Étape",
    "col.time": "Durée",
    # figures
    "fig.line_histograms.title": "Distribution des quantités, des prix et des montants",
    "fig.line_histograms.caption": (
        "Échelles logarithmiques, pour lire des valeurs étalées sur plusieurs ordres de "
        "grandeur : regardez où se concentre la masse et la longueur de la queue à droite ; "
        "la ligne médiane vaut {median_line}, la commande médiane {median_order}."
    ),
    "fig.line_boxplots.title": "Valeurs extrêmes",
    "fig.line_boxplots.caption": (
        "Les boîtes contiennent la moitié centrale des valeurs (trait : médiane, losange : "
        "moyenne) et les moustaches s’étendent à 1,5 × l’écart interquartile sur l’échelle "
        "logarithmique ; regardez les points au-delà : {n_high} lignes ont une quantité "
        "supérieure à {fence} unités."
    ),
    "fig.monthly.title": "Chiffre d’affaires, commandes et clients actifs par mois",
    "fig.monthly.caption": (
        "Cherchez la saisonnalité : le mois le plus actif est {peak_month}, avec {peak_revenue}."
    ),
    "fig.monthly.caption_partial": (
        "Cherchez la saisonnalité : le mois le plus actif est {peak_month}, avec "
        "{peak_revenue} ; les barres hachurées sont des mois incomplets (les données "
        "s’arrêtent le {end})."
    ),
    "fig.countries.title": "Chiffre d’affaires par pays",
    "fig.countries.caption": (
        "Le premier marché, {country}, représente à lui seul {share} du chiffre d’affaires ; "
        "l’axe est logarithmique pour que les petits marchés restent visibles."
    ),
    "fig.findings.title": "Anomalies relevées par l’audit",
    "fig.findings.caption": (
        "Lignes (échelle logarithmique) et chiffre d’affaires net concernés par chaque "
        "anomalie : « {finding} » touche le plus de lignes ({rows})."
    ),
    "fig.features.title": "Variables client avant et après transformation",
    "fig.features.caption": (
        "Comparez l’asymétrie (0 = symétrique) avant la transformation ({skew_before}) et "
        "après ({skew_after}) : un partitionnement fondé sur les distances fonctionne mieux "
        "sur des variables à peu près symétriques."
    ),
    # preprocessing
    "preprocessing.intro": (
        "La segmentation porte sur une ligne par client. La récence, la fréquence et le "
        "montant sont très asymétriques : quelques clients commandent bien plus souvent et "
        "dépensent bien plus que les autres, et domineraient toutes les distances. Ces "
        "variables sont donc transformées ({method}) avant le partitionnement."
    ),
    "transform.log": "log(1 + x) sur les variables asymétriques, puis standardisation",
    "transform.yeo-johnson": "transformation puissance de Yeo-Johnson, puis standardisation",
    # variables
    "var.quantity.label": "Quantité par ligne",
    "var.quantity.unit": "unités",
    "var.unit_price.label": "Prix unitaire",
    "var.unit_price.unit": "£",
    "var.amount.label": "Montant de la ligne",
    "var.amount.unit": "£",
    "var.order_total.label": "Montant de la commande",
    "var.order_total.unit": "£",
    "var.recency.label": "Récence",
    "var.recency.unit": "jours",
    "var.frequency.label": "Fréquence",
    "var.frequency.unit": "commandes",
    "var.monetary.label": "Montant",
    "var.monetary.unit": "£",
    "var.tenure.label": "Ancienneté",
    "var.tenure.unit": "jours",
    "var.avg_order_value.label": "Panier moyen",
    "var.avg_order_value.unit": "£",
    "var.items_per_order.label": "Articles par commande",
    "var.items_per_order.unit": "unités",
    "var.distinct_products.label": "Produits distincts",
    "var.distinct_products.unit": "produits",
    "var.return_rate.label": "Taux de retour",
    "var.return_rate.unit": "%",
    # axes
    "axis.with_unit": "{label} ({unit})",
    "axis.with_unit_log": "{label} ({unit}, échelle log.)",
    "axis.transformed": "{label}, après transformation",
    "axis.lines_per_bin": "Lignes par classe",
    "axis.orders_per_bin": "Commandes par classe",
    "axis.customers_per_bin": "Clients",
    "axis.revenue": "Chiffre d’affaires (£)",
    "axis.revenue_log": "Chiffre d’affaires (£, échelle log.)",
    "axis.net_revenue": "Chiffre d’affaires net (£)",
    "axis.orders": "Commandes",
    "axis.active_customers": "Clients actifs",
    "axis.rows_log": "Lignes (échelle log.)",
    # legends and labels
    "legend.density": "Densité lissée",
    "legend.partial_month": "Mois incomplet",
    "label.other_countries": "Autres ({n} pays)",
    "label.unknown_country": "Inconnu",
    "label.outliers": "{high} au-dessus, {low} en dessous des moustaches",
    "label.skew": "asymétrie {value}",
    "label.before": "Avant",
    "label.after": "Après",
    "label.list_separator": " ; ",
    # appendix
    "appendix.parameters": "Paramètres",
    "appendix.versions": "Versions des logiciels",
    "appendix.timings": "Durées",
    "table.parameters.title": "Paramètres de l’exécution",
    "table.versions.title": "Versions des logiciels utilisés",
    "table.timings.title": "Temps de construction de ce rapport",
    "timing.data_figures": "Figures : données et anomalies",
    "timing.preprocessing_figures": "Figures : préparation des données",
    "timing.total": "Total",
    "unit.seconds": "{value} s",
    # RFM segments
    "segment.champions.name": "Champions",
    "segment.champions.description": (
        "Ont acheté récemment, achètent souvent et dépensent le plus."
    ),
    "segment.champions.action": (
        "Les récompenser : accès en avant-première aux nouveautés, avantages de fidélité, "
        "demande d’avis et de parrainages ; aucune remise nécessaire."
    ),
    "segment.loyal_customers.name": "Clients fidèles",
    "segment.loyal_customers.description": "Achètent régulièrement et dépensent bien.",
    "segment.loyal_customers.action": (
        "Proposer des produits de gamme supérieure, les inscrire au programme de fidélité, "
        "leur demander des avis."
    ),
    "segment.potential_loyalists.name": "Fidèles potentiels",
    "segment.potential_loyalists.description": (
        "Clients récents, avec plusieurs commandes et un bon montant."
    ),
    "segment.potential_loyalists.action": (
        "Proposer l’adhésion au programme de fidélité et recommander des produits associés."
    ),
    "segment.new_customers.name": "Nouveaux clients",
    "segment.new_customers.description": (
        "Ont acheté très récemment, pour la première fois ou presque."
    ),
    "segment.new_customers.action": (
        "Série d’accueil, suivi de la première commande, aide au deuxième achat."
    ),
    "segment.promising.name": "Prometteurs",
    "segment.promising.description": "Acheteurs récents qui ont encore peu dépensé.",
    "segment.promising.action": (
        "Faire connaître la gamme : échantillons, seuil de livraison gratuite, petite "
        "incitation à recommander."
    ),
    "segment.need_attention.name": "À surveiller",
    "segment.need_attention.description": (
        "Fréquence et montant supérieurs à la moyenne, mais pas d’achat récent."
    ),
    "segment.need_attention.action": (
        "Offres à durée limitée et recommandations fondées sur leurs achats passés."
    ),
    "segment.about_to_sleep.name": "En voie d’endormissement",
    "segment.about_to_sleep.description": (
        "Récence, fréquence et montant inférieurs à la moyenne : ils s’éloignent."
    ),
    "segment.about_to_sleep.action": (
        "Renouer le contact avec les meilleures ventes et une remise personnalisée avant "
        "qu’ils ne décrochent."
    ),
    "segment.at_risk.name": "À risque",
    "segment.at_risk.description": (
        "Ont acheté souvent et beaucoup dépensé, mais il y a longtemps."
    ),
    "segment.at_risk.action": (
        "Courriels de reconquête personnalisés, offres de renouvellement, rappel de ce "
        "qu’ils achetaient."
    ),
    "segment.cant_lose_them.name": "À ne pas perdre",
    "segment.cant_lose_them.description": (
        "Parmi les plus gros et les plus fréquents acheteurs, mais silencieux depuis longtemps."
    ),
    "segment.cant_lose_them.action": (
        "Les contacter personnellement (appel, enquête), faire une offre forte, présenter "
        "les nouveautés."
    ),
    "segment.hibernating.name": "En hibernation",
    "segment.hibernating.description": ("Dernier achat ancien, peu de commandes, faible montant."),
    "segment.hibernating.action": (
        "Campagnes peu coûteuses uniquement : produits pertinents et remises saisonnières."
    ),
    "segment.lost.name": "Perdus",
    "segment.lost.description": "Récence, fréquence et montant les plus faibles.",
    "segment.lost.action": (
        "Une campagne de réactivation au plus, puis ne plus rien dépenser pour eux."
    ),
    # audit findings
    "finding.missing_customer_id.name": "Identifiant client manquant",
    "finding.missing_customer_id.description": (
        "Impossible à rattacher à un client : lignes écartées de la segmentation."
    ),
    "finding.cancellation_lines.name": "Annulations",
    "finding.cancellation_lines.description": (
        "Factures commençant par « C » : elles annulent tout ou partie d’une commande antérieure."
    ),
    "finding.negative_quantity.name": "Quantité négative",
    "finding.negative_quantity.description": ("Retours, annulations et corrections de stock."),
    "finding.zero_price.name": "Prix unitaire nul",
    "finding.zero_price.description": (
        "Articles gratuits, échantillons ou ajustements de stock : aucun chiffre d’affaires."
    ),
    "finding.negative_price.name": "Prix unitaire négatif",
    "finding.negative_price.description": "Écritures comptables, pas des ventes.",
    "finding.bad_debt_adjustment.name": "Ajustement de créance irrécouvrable",
    "finding.bad_debt_adjustment.description": (
        "Factures commençant par « A » : passages en perte comptables, pas des ventes."
    ),
    "finding.exact_duplicates.name": "Doublons exacts",
    "finding.exact_duplicates.description": (
        "Identiques sur toutes les colonnes : très probablement saisies deux fois."
    ),
    "finding.non_product_codes.name": "Codes hors produits",
    "finding.non_product_codes.description": (
        "Frais de port, saisies manuelles, remises, frais bancaires et commissions "
        "(POST, M, D, DOT…)."
    ),
    "finding.extreme_quantity.name": "Quantité extrême",
    "finding.extreme_quantity.description": (
        "Bien au-delà des quantités habituelles ; souvent annulée peu après."
    ),
    "finding.extreme_order_value.name": "Montant de commande extrême",
    "finding.extreme_order_value.description": (
        "Commandes d’un montant bien supérieur à l’habituel ; à vérifier avant de se fier "
        "aux totaux."
    ),
}

# ---------------------------------------------------------------------------
# Sections built from a run's summary (custseg.report_builder)
# ---------------------------------------------------------------------------

_EN.update(
    {
        # data section, raw log against cleaned lines
        "data.intro_raw": (
            "The transaction log holds {lines} lines from {customers} identified customers, "
            "from {start} to {end}, for a net revenue of {revenue}. After cleaning, {kept} lines "
            "remain ({share}), in {countries} countries: the anomalies below concern the raw "
            "lines, every other figure of this section describes the cleaned ones."
        ),
        "data.distributions.intro_positive": (
            "Histograms and box plots use log scales: quantities, prices and totals spread over "
            "several orders of magnitude."
        ),
        "col.raw_log": "Raw log",
        "col.clean_lines": "After cleaning",
        "table.key_figures.note": (
            "Raw log: every line of the input, anomalies included (medians over all lines, "
            "negative ones too). After cleaning: the lines kept for the segmentation."
        ),
        # cleaning
        "clean.heading": "Cleaning",
        "clean.intro": (
            "Lines that cannot be attributed to a customer or are not sales are removed by the "
            "rules below, applied in this order (a line is counted under the first rule that "
            "removes it): {kept} of the {rows} lines remain ({share}), from {customers} customers."
        ),
        "clean.policy": "Options of this run: {choices}.",
        "clean.kept": "Lines kept",
        "table.cleaning.title": "Lines removed by each cleaning rule",
        "table.cleaning.note": "Shares are of all the lines of the raw log.",
        "col.rule": "Rule",
        "col.removes": "What it removes",
        "policy.returns.drop": "cancellations removed (they still give each customer's return rate)",
        "policy.returns.net": "cancellations deducted from the customer's spend",
        "policy.non_product.drop": "postage, fees and other non-product lines removed",
        "policy.non_product.keep": "postage, fees and other non-product lines kept",
        "policy.duplicates.drop": "exact duplicates removed (one copy kept)",
        "policy.duplicates.keep": "exact duplicates kept",
        "clean.missing_customer_id.name": "No customer id",
        "clean.missing_customer_id.description": "Cannot be attributed to a customer.",
        "clean.exact_duplicates.name": "Exact duplicates",
        "clean.exact_duplicates.description": "Second and later copies of identical lines.",
        "clean.cancellation.name": "Cancellations",
        "clean.cancellation.description": "Invoices starting with “C”.",
        "clean.bad_debt_adjustment.name": "Bad-debt adjustments",
        "clean.bad_debt_adjustment.description": "Invoices starting with “A”.",
        "clean.non_positive_quantity.name": "Zero or negative quantity",
        "clean.non_positive_quantity.description": "Stock corrections outside cancellations.",
        "clean.non_positive_price.name": "Zero or negative price",
        "clean.non_positive_price.description": "Free items and accounting entries.",
        "clean.non_product_code.name": "Non-product codes",
        "clean.non_product_code.description": (
            "Stock codes not starting with five digits: postage, fees, manual entries."
        ),
        "clean.after_snapshot.name": "After the snapshot date",
        "clean.after_snapshot.description": "Lines dated on or after the snapshot date.",
        # customer features
        "features.heading": "Customer features",
        "features.intro": (
            "Each of the {customers} customers is described by the features below, measured "
            "on the cleaned lines up to the snapshot date, {snapshot}:"
        ),
        "features.item": "{label}: {definition}",
        "features.skew_item": "{label} {value}",
        "feature.recency.definition": "whole days from the last purchase to the snapshot date.",
        "feature.frequency.definition": "number of distinct orders (invoices).",
        "feature.monetary.definition": "total spend, the sum of the kept line totals.",
        "feature.tenure.definition": "whole days from the first purchase to the snapshot date.",
        "feature.avg_order_value.definition": "total spend divided by the number of orders.",
        "feature.items_per_order.definition": "units bought divided by the number of orders.",
        "feature.distinct_products.definition": "number of distinct products bought.",
        "feature.return_rate.definition": (
            "value of the cancelled lines divided by the value of the purchases (at most 1)."
        ),
        "table.features.title": "Distribution of the clustering features",
        "table.features.note": (
            "Q1 and Q3: first and third quartiles (a quarter of the customers below Q1, a "
            "quarter above Q3)."
        ),
        "col.feature": "Feature",
        "col.min": "Min.",
        "col.q1": "Q1",
        "col.median": "Median",
        "col.mean": "Mean",
        "col.q3": "Q3",
        "col.max": "Max.",
        "transform.detail_log": (
            "log(1 + x) is applied to the features whose skewness exceeds {threshold} (skewness "
            "before: {skews}), here {logged}; every feature is then standardised to a mean of 0 "
            "and a standard deviation of 1, so that each weighs the same in the distances."
        ),
        "transform.detail_log_none": (
            "No feature has a skewness above {threshold} (skewness: {skews}), so none is "
            "log-transformed; every feature is standardised to a mean of 0 and a standard "
            "deviation of 1."
        ),
        "transform.detail_yeo_johnson": (
            "The Yeo-Johnson power transform makes each feature as symmetric as possible; every "
            "feature is then standardised to a mean of 0 and a standard deviation of 1, so that "
            "each weighs the same in the distances."
        ),
        # methods
        "method.kmeans": "K-means",
        "method.dbscan": "DBSCAN",
        "method.rfm": "RFM scoring",
        "methods.intro": (
            "Three methods segment the same {customers} customers. They answer different "
            "questions, and section 6 compares their answers. K-means and DBSCAN work on the "
            "transformed features ({features}); RFM scoring on the raw recency, frequency and "
            "monetary value."
        ),
        "methods.kmeans": (
            "K-means splits the customers into k groups so that each customer is closer to the "
            "centre of its own group than to any other centre. It needs the number of groups k, "
            "chosen in section 4 among {k_min} to {k_max}; it is run several times from "
            "different starting points (random seed {seed}) and the best run is kept. Segments "
            "are numbered by decreasing typical spend (the segment centre on the log-transformed "
            "spend): segment 0 spends the most."
        ),
        "methods.minibatch": (
            "Above {threshold} customers, the faster MiniBatch K-means (fitted on small random "
            "batches) takes over; this run used the standard algorithm."
        ),
        "methods.minibatch_used": (
            "This run has more than {threshold} customers, so the faster MiniBatch K-means "
            "(fitted on small random batches of customers) was used."
        ),
        "methods.dbscan": (
            "DBSCAN groups customers that sit in dense regions: a customer with at least "
            "min_samples neighbours within a distance eps is a core customer, and core customers "
            "closer than eps to each other chain into one cluster. It needs no number of "
            "clusters but two parameters, eps and min_samples (section 4), and it labels the "
            "customers no core customer reaches as noise, which makes it a detector of atypical "
            "customers."
        ),
        "methods.rfm": (
            "RFM scoring needs no algorithm: recency, frequency and monetary value are each cut "
            "at their quantiles into {n} groups scored 1 to {n} ({n} = most recent, most "
            "frequent, biggest spend). The frequency and monetary scores are averaged (rounded "
            "down) into an FM score, and the pair (R, FM) places the customer in one of the "
            "named segments of marketing practice (map in section 5)."
        ),
        "methods.outliers.heading": "Atypical customers",
        "methods.outliers": (
            "Inside each K-means segment, a customer is atypical when one of its transformed "
            "features lies more than {threshold} robust standard deviations from the segment's "
            "median (robust z-score: distance to the median divided by 1.4826 × the median "
            "absolute deviation, the rule of Iglewicz and Hoaglin). The reason names the feature "
            "that lies furthest."
        ),
        "table.rfm_scores.title": "Values behind each RFM score",
        "table.rfm_scores.note": (
            "Bounds are the quantiles of this run's customers, each range including its upper "
            "bound. A dash marks an empty score: ties put two quantiles on the same value."
        ),
        "col.score": "Score",
        "rfm.range_upto": "≤ {hi}",
        "rfm.range_from": "≥ {lo}",
        "rfm.range_above": "> {lo}",
        "rfm.range_between": "{lo} to {hi}",
        # choosing k
        "k.heading": "Number of K-means segments (k)",
        "k.rule": (
            "A value of k is admissible when it gives at least {min_clusters} segments and its "
            "smallest segment holds at least {min_share} of the customers, so that every "
            "segment is large enough to act on. Each admissible k is ranked on four criteria: "
            "the silhouette (higher is better), the Calinski-Harabasz index (higher is better), "
            "the Davies-Bouldin index (lower is better) and the distance to the elbow of the "
            "inertia curve (smaller is better). The ranks are scaled from 0 (worst) to 1 (best) "
            "and averaged into a combined score; the highest score wins."
        ),
        "k.decision": (
            "k = {k} is retained: it has the best combined score ({score}) of the {n} admissible "
            "values ({values}), with a silhouette of {silhouette}, a Calinski-Harabasz index of "
            "{ch} and a Davies-Bouldin index of {db}; {knee}. Its smallest segment holds {share} "
            "of the customers."
        ),
        "k.knee_same": "it is also the elbow of the inertia curve",
        "k.knee_other": "the elbow of the inertia curve is at k = {knee}",
        "k.knee_none": "the inertia curve shows no clear elbow",
        "k.decision_relaxed": (
            "No k gives at least {min_clusters} segments with a smallest segment of {min_share} "
            "or more; k = {k} is kept because its smallest segment is the largest ({share} of "
            "the customers)."
        ),
        "k.decision_fallback": (
            "No k tried gives at least {min_clusters} segments; k = {k}, with the highest "
            "silhouette, is kept. Try larger values of k to apply the rule."
        ),
        "k.decision_forced": (
            "k = {k} was set by the user (--k {k}); its scores are given for information: "
            "silhouette {silhouette}, Calinski-Harabasz {ch}, Davies-Bouldin {db}, smallest "
            "segment {share} of the customers."
        ),
        "k.decision_forced_unscanned": (
            "k = {k} was set by the user (--k {k}); it lies outside the values of k tried, so "
            "no score is available."
        ),
        "k.forced_note": "The automatic rule would have chosen k = {auto}.",
        "k.top_silhouette": "k = {k} has the highest silhouette ({silhouette}) but {why}.",
        "k.status.chosen": "Chosen",
        "k.status.user": "Not chosen (k set by the user)",
        "k.status.few.short": "Fewer than {n} segments",
        "k.status.few.long": "it gives fewer than {n} segments",
        "k.status.no_scores.short": "No scores",
        "k.status.no_scores.long": "its scores could not be computed",
        "k.status.small.short": "Smallest segment below {minimum}",
        "k.status.small.long": (
            "its smallest segment holds only {share} of the customers (at least {minimum} required)"
        ),
        "k.status.lower.short": "Lower score",
        "k.status.lower.long": "its combined score is lower ({score} against {best})",
        "k.status.tie.short": "Same score, not preferred",
        "k.status.tie.long": (
            "it ties on the combined score but lies further from the elbow or gives more segments"
        ),
        "table.k_scan.title": "Scores of each k tried",
        "col.inertia": "Inertia",
        "col.smallest_segment": "Smallest segment",
        "col.combined_score": "Combined score",
        "col.decision": "Decision",
        "score.silhouette": "Silhouette",
        "score.calinski_harabasz": "Calinski-Harabasz",
        "score.davies_bouldin": "Davies-Bouldin",
        "label.higher_better": "higher is better",
        "label.lower_better": "lower is better",
        "fig.elbow.title": "Inertia against the number of segments",
        "fig.elbow.caption": (
            "Inertia (the sum of squared distances of the customers to their segment's centre) "
            "always falls as k grows; look for the bend where one more segment stops paying off: "
            "Kneedle finds it at k = {knee} (dashed line)."
        ),
        "fig.elbow.caption_none": (
            "Inertia (the sum of squared distances of the customers to their segment's centre) "
            "always falls as k grows; look for a bend where one more segment stops paying off: "
            "this curve has no clear one."
        ),
        "fig.k_scores.title": "Quality scores against the number of segments",
        "fig.k_scores.caption": (
            "Look for a k that scores well on all three at once; the dashed line marks the "
            "chosen k = {k}, hollow points the values of k the rule does not admit."
        ),
        "fig.silhouette.title": "Silhouette of each customer, k = {k}",
        "fig.silhouette.caption": (
            "Each horizontal line is a customer: near 1 it is much closer to its own segment "
            "than to the next one, near 0 it sits on a border, below 0 it is probably in the "
            "wrong segment. Look for segments with long bars and few negative values. Computed "
            "on {sample}."
        ),
        "axis.k": "Number of segments k",
        "axis.inertia": "Inertia (sum of squared distances)",
        "axis.silhouette": "Silhouette coefficient",
        "legend.knee": "Elbow (Kneedle): k = {k}",
        "legend.chosen_k": "Chosen: k = {k}",
        "legend.not_admissible": "Not admissible",
        "legend.mean_silhouette": "Mean silhouette: {value}",
        "sample.all": "all {n} customers",
        "sample.some": "a random sample (fixed seed) of {size} of the {n} customers",
        # DBSCAN tuning
        "db.heading": "DBSCAN: eps and min_samples",
        "db.rule": (
            "For each value of min_samples tried ({grid}), eps is read at the knee of the curve "
            "of each customer's distance to its (min_samples − 1)-th nearest neighbour, then "
            "multiplied by {factors}. A setting is eligible when it gives at least two clusters "
            "holding at least {min_share} of the customers each, and at most {max_noise} noise. "
            "Eligible settings are scored by the silhouette of the clustered customers times the "
            "share of customers clustered, so that discarding customers as noise does not pay; "
            "the highest score wins."
        ),
        "db.decision": (
            "min_samples = {min_samples} and eps = {eps} ({factor} × the knee, {knee}) have the "
            "best score, {score} (silhouette of the clustered customers {silhouette} × {clustered} "
            "of the customers clustered), among the {n_eligible} eligible settings out of {n}."
        ),
        "db.decision_none": (
            "None of the {n} settings meets these conditions, so DBSCAN does not split these "
            "customers; eps = {eps} (the knee) with min_samples = {min_samples} is kept: "
            "{clusters} cluster(s), {noise} noise."
        ),
        "db.sampled": "The tuning ran on a random sample (fixed seed) of {size} of the {n} customers.",
        "db.sampled_fit": (
            "DBSCAN was fitted on a sample; every other customer takes the cluster of its "
            "nearest core customer, or is noise when none lies within eps."
        ),
        "db.status.chosen": "Chosen",
        "db.status.eligible": "Eligible",
        "db.status.few": "Fewer than 2 clusters of {share}",
        "db.status.noisy": "Noise above {share}",
        "db.status.not_eligible": "Not eligible",
        "table.dbscan_grid.title": "DBSCAN settings tried",
        "col.eps_factor": "× knee",
        "col.clusters": "Clusters",
        "col.major_clusters": "Clusters ≥ {share}",
        "col.noise": "Noise",
        "col.silhouette_clustered": "Silhouette (clustered)",
        "fig.k_distance.title": "k-distance curve",
        "fig.k_distance.caption": (
            "Customers sorted by their distance to their k-th nearest neighbour (k = {k}, log "
            "scale, {n} customers): the curve turns upwards where customers leave the dense "
            "regions. The knee (dotted) and the chosen eps (dashed) are marked: with min_samples "
            "= {min_samples}, customers above the dashed line are candidates for noise."
        ),
        "axis.customers_sorted": "Customers, sorted by distance",
        "axis.k_distance": "k-distance (k = {k}, log scale)",
        "legend.knee_eps": "Knee: {value}",
        "legend.chosen_eps": "Chosen eps: {value}",
        # segments
        "segments.kmeans.heading": "K-means segments",
        "segments.kmeans.intro": (
            "K-means finds {k} segments. Each one is named after where its median recency, "
            "frequency and spend rank among all customers (lower, middle or upper third, or top "
            "tenth), and its recommended action follows from that profile; segments are "
            "numbered by decreasing typical spend."
        ),
        "table.kmeans_segments.title": "K-means segments at a glance",
        "table.segments.note": "Medians: half of the segment's customers lie below, half above.",
        "col.segment": "Segment",
        "col.customer_share": "Share of customers",
        "col.median_recency": "Median recency (days)",
        "col.median_frequency": "Median orders",
        "col.median_monetary": "Median spend",
        "col.atypical": "Atypical",
        "card.facts": "{n} customers ({share}) · {revenue} of the revenue",
        "card.profile": "Profile",
        "card.typical": "Typical customer",
        "card.typical_value": "last order {recency} ago, {frequency}, {monetary} spent",
        "unit.days.one": "{n} day",
        "unit.days.other": "{n} days",
        "unit.orders.one": "{n} order",
        "unit.orders.other": "{n} orders",
        "card.action": "Recommended action",
        "card.who": "Who they are",
        "level.r.top": "bought very recently",
        "level.f.top": "among the 10% most frequent buyers",
        "level.m.top": "among the 10% biggest spenders",
        "level.r.high": "bought recently",
        "level.r.mid": "last order neither recent nor old",
        "level.r.low": "no order for a long time",
        "level.f.high": "orders often",
        "level.f.mid": "orders now and then",
        "level.f.low": "orders rarely",
        "level.m.high": "spends a lot",
        "level.m.mid": "spends an average amount",
        "level.m.low": "spends little",
        "label.list_comma": ", ",
        "label.name_variant": "{name} ({n})",
        "label.cluster": "Cluster {n}",
        "label.noise": "Noise",
        "fig.shares.title": "Share of customers and share of revenue per segment",
        "fig.shares.caption": (
            "Compare the two bars of each segment: “{name}” holds {customers} of the customers "
            "but brings {revenue} of the revenue."
        ),
        "legend.customer_share": "Share of customers",
        "legend.revenue_share": "Share of revenue (segment colour)",
        "axis.share": "Share",
        "fig.centers.title": "Average profile of each K-means segment",
        "fig.centers.caption": (
            "Average of each transformed feature in the segment, in standard deviations from the "
            "average customer: red is above average, blue below. For recency, blue means a more "
            "recent last purchase."
        ),
        "fig.segment_boxplots.title": "Recency, orders and spend per segment ({method})",
        "fig.segment_boxplots.caption": (
            "Boxes hold the middle half of each segment's customers (bar: median) and whiskers "
            "reach 1.5 × the interquartile range; points are the most extreme customers beyond "
            "them (at most the 30 highest per segment). Spend and orders are on log scales: look "
            "at how far apart the boxes sit."
        ),
        "fig.scatter.title": "Customers coloured by K-means segment",
        "fig.scatter.caption": (
            "Each point is a customer ({sample}); black rings mark the atypical customers. Look "
            "at how cleanly the colours separate; on the right, the first two principal "
            "components ({explained} of the variance) show the segments as K-means sees them."
        ),
        "axis.pc": "Principal component {n}",
        "axis.pc_share": "Principal component {n}\n({share} of the variance)",
        "legend.atypical": "Atypical customer",
        "outliers.heading": "Atypical customers",
        "outliers.none": "No customer is atypical within its segment.",
        "outliers.intro": (
            "{n} customers ({share}) are atypical within their segment ({per_segment}). They stay "
            "in their segment but deserve a look before any campaign: they are often the largest "
            "accounts, sometimes data errors."
        ),
        "outliers.per_segment": "{name}: {n}",
        "outlier.reason_high": "{feature} far above the segment's median (robust z = {z})",
        "outlier.reason_low": "{feature} far below the segment's median (robust z = {z})",
        "table.outliers.title": "Atypical customers and why",
        "table.outliers.note_all": (
            "Every atypical customer is listed; customers.csv flags them in the column is_outlier."
        ),
        "table.outliers.note_some": (
            "The {shown} most atypical of the {n} are listed; customers.csv flags all of them in "
            "the column is_outlier."
        ),
        "col.customer": "Customer",
        "col.why_atypical": "Why atypical",
        "segments.rfm.heading": "RFM segments",
        "segments.rfm.intro": (
            "The RFM map places every customer by recency score (columns) and "
            "frequency-monetary score (rows); each coloured region is a segment of marketing "
            "practice, with its recommended action below."
        ),
        "fig.rfm_map.title": "RFM segment map",
        "fig.rfm_map.caption": (
            "Read a cell as “this many customers have this recency score and this FM score”; "
            "the largest segment is “{name}”, with {n} customers ({share})."
        ),
        "fig.rfm_map.caption_empty": (
            "Read a cell as “this many customers have this recency score and this FM score”."
        ),
        "axis.r_score": "Recency score ({best} = most recent)",
        "axis.fm_score": "Frequency-monetary score ({best} = highest)",
        "table.rfm_segments.title": "RFM segments at a glance",
        "segments.dbscan.heading": "DBSCAN clusters",
        "table.dbscan_segments.title": "DBSCAN clusters at a glance",
        "db.found": "DBSCAN finds {n} clusters ({clusters}) and {noise} noise.",
        "db.found_one": "DBSCAN finds a single cluster ({clusters}) and {noise} noise.",
        "db.cluster_share": "{name}: {share}",
        "db.all_noise": (
            "DBSCAN labels every customer as noise: eps is too small for the density of these "
            "customers and it finds no structure."
        ),
        "db.layered": (
            "But the clusters follow the values of {feature}: each value of {feature} falls in a "
            "single cluster ({purity} of the clustered customers).{singles} The gaps DBSCAN sees "
            "lie between successive values of {feature}, not between groups of customers: read "
            "this as a split on {feature} that a simple threshold gives directly, not as a "
            "segmentation."
        ),
        "db.single_lowest": "{name}: only the customers with the lowest {feature} ({value}).",
        "db.single_highest": "{name}: only the customers with the highest {feature} ({value}).",
        "db.continuum": (
            "One dense cluster holds {share} of the customers: they form a continuum rather than "
            "separated groups. DBSCAN is useful here to detect atypical customers, not to "
            "segment; use the K-means or RFM segments."
        ),
        "db.separated": (
            "At this density the customers do form separated groups; section 6 compares them "
            "with the K-means segments."
        ),
        "db.noise": (
            "The {n} noise customers are isolated from every dense region: they bring {revenue} "
            "of the revenue, with a median spend of {monetary}."
        ),
        # comparison
        "comparison.intro": (
            "The adjusted Rand index (ARI) measures how far two segmentations put the same "
            "customers together: 1 when they agree completely, about 0 when they agree no more "
            "than chance would."
        ),
        "table.ari.title": "Agreement between the methods (adjusted Rand index)",
        "table.ari.note": (
            "Reading: below 0.2 weak, 0.2 to 0.5 moderate, 0.5 to 0.8 strong, from 0.8 very "
            "strong agreement. DBSCAN noise counts as one group."
        ),
        "col.methods": "Methods",
        "col.ari": "ARI",
        "col.reading": "Agreement",
        "comparison.pair": "{a} and {b}",
        "ari.weak": "Weak",
        "ari.moderate": "Moderate",
        "ari.strong": "Strong",
        "ari.very_strong": "Very strong",
        "table.kmeans_rfm.title": "K-means segments against RFM segments (customers)",
        "table.kmeans_rfm.note": (
            "Each cell counts the customers of an RFM segment (row) in a K-means segment "
            "(column), blank when there are none; the shade is the share of the row: a single "
            "dark cell in a row means the RFM segment sits inside one K-means segment."
        ),
        "table.kmeans_dbscan.note": (
            "Customers of each K-means segment (row) in each DBSCAN cluster (column), shaded by "
            "their share of the row."
        ),
        "col.rfm_segment": "RFM segment",
        "col.total": "Total",
        "comparison.reading": "Where the customers of each K-means segment sit among the RFM segments:",
        "comparison.mainly": "{name}: {share} in “{rfm}”",
        "comparison.then": ", then {share} in “{rfm}”",
        "comparison.end": ".",
        "table.kmeans_dbscan.title": "K-means segments against DBSCAN clusters (customers)",
        "col.kmeans_segment": "K-means segment",
        # appendix
        "appendix.sampling": "Sampling",
        "sampling.silhouette": "Silhouette scores and diagram: computed on {sample}.",
        "sampling.minibatch": "K-means: MiniBatch K-means, fitted on small random batches of customers.",
        "sampling.dbscan": "DBSCAN tuning: on {sample}.",
        "sampling.scatter": "Scatter plots: {sample}.",
        "sampling.approx_quantiles": (
            "Quartiles of the transaction-line figures: approximate (t-digest), the log being "
            "very large."
        ),
        "sampling.exact_quantiles": "Quartiles of the transaction-line figures: exact, over every line.",
        "table.run_timings.title": "Time per stage of the run",
        "col.option": "Command-line option",
        "col.cpu_time": "CPU time",
        "table.timings.note": (
            "Wall-clock time depends on the load of the machine; CPU time is the processor time "
            "this report itself took. Each figure row adds up the time of its figures wherever "
            "they were drawn: the run has a second process draw some of them while the "
            "models are fitted and share the rest, so the total can exceed the time the report "
            'stage took ("report" in the timings of summary.json).'
        ),
        "timing.hyperparameter_figures": "Figures: choosing hyper-parameters",
        "timing.segment_figures": "Figures: segments",
        "timing.report_text": "Text and tables",
        "timing.plotting_import": "Loading the plotting library",
        "col.cluster": "Cluster",
        "stage.load": "Loading",
        "stage.audit": "Audit",
        "stage.clean": "Cleaning",
        "stage.features": "Customer features",
        "stage.distributions": "Summaries for the figures",
        "stage.k_selection": "Choosing k",
        "stage.kmeans": "K-means",
        "stage.dbscan": "DBSCAN",
        "stage.rfm": "RFM scoring",
        "stage.profiles": "Profiles, atypical customers, agreement",
        "stage.assemble": "Assembling the results",
        "stage.total": "Total",
        "label.platform": "Platform",
        "label.report_library": "{name} (report)",
        "label.range": "{lo} to {hi}",
        "unit.gigabytes": "{value} GB",
        "param.k": "Number of K-means segments",
        "param.k_range": "Values of k tried",
        "param.seed": "Random seed",
        "param.features": "Clustering features",
        "param.transform": "Transformation",
        "param.returns": "Cancellations",
        "param.non_product": "Non-product lines",
        "param.duplicates": "Exact duplicates",
        "param.as_of": "Snapshot date",
        "param.lang": "Report language",
        "param.figure_format": "Figure format",
        "param.min_clusters": "Minimum number of segments",
        "param.min_cluster_share": "Minimum share of the smallest segment",
        "param.silhouette_sample_size": "Silhouette sample (customers)",
        "param.minibatch_threshold": "MiniBatch K-means above (customers)",
        "param.dbscan_sample_size": "DBSCAN tuning sample (customers)",
        "param.memory_limit": "DuckDB memory limit",
        "param.value.auto": "automatic",
        "param.value.as_of_default": "day after the last purchase",
        "param.value.lang_en": "English",
        "param.value.lang_fr": "French",
        # K-means segment names and actions (custseg.profiles.DEFAULT_NAMING_RULES, NOISE_RULE)
        "cluster.vip_champions.name": "VIP champions",
        "cluster.vip_champions.action": (
            "Dedicated account care, VIP perks and early access; protect the relationship, no "
            "discounts needed."
        ),
        "cluster.high_value_loyal.name": "High-value loyal",
        "cluster.high_value_loyal.action": (
            "VIP programme, early access and personal service; no discounts needed."
        ),
        "cluster.loyal_regulars.name": "Loyal regulars",
        "cluster.loyal_regulars.action": "Cross-selling and bundles to raise the basket value.",
        "cluster.new_big_spenders.name": "New big spenders",
        "cluster.new_big_spenders.action": (
            "A personal welcome and tailored recommendations to secure a second order."
        ),
        "cluster.recent_mid_spenders.name": "Recent mid spenders",
        "cluster.recent_mid_spenders.action": "Onboarding series and a second-purchase incentive.",
        "cluster.recent_low_spenders.name": "Recent low spenders",
        "cluster.recent_low_spenders.action": (
            "Welcome series and low-cost recommendations to build the buying habit."
        ),
        "cluster.at_risk_big_spenders.name": "At-risk big spenders",
        "cluster.at_risk_big_spenders.action": (
            "Personal outreach and a loyalty reward before they lapse."
        ),
        "cluster.at_risk_regulars.name": "At-risk regulars",
        "cluster.at_risk_regulars.action": "A reminder with recommendations based on their past orders.",
        "cluster.lapsing_mid_spenders.name": "Lapsing mid spenders",
        "cluster.lapsing_mid_spenders.action": (
            "A re-engagement email with a moderate, time-limited incentive."
        ),
        "cluster.occasional_low_spenders.name": "Occasional low spenders",
        "cluster.occasional_low_spenders.action": (
            "A second-purchase nudge by email (recommendations, no discount); "
            "keep them out of paid campaigns."
        ),
        "cluster.lapsing_low_spenders.name": "Lapsing low spenders",
        "cluster.lapsing_low_spenders.action": "Low-cost automated reminders; no paid incentive.",
        "cluster.lapsed_big_spenders.name": "Lapsed big spenders",
        "cluster.lapsed_big_spenders.action": (
            "A win-back campaign with a personalised, time-limited offer."
        ),
        "cluster.lapsed_mid_spenders.name": "Lapsed mid spenders",
        "cluster.lapsed_mid_spenders.action": "A win-back campaign with a time-limited offer.",
        "cluster.lapsed_low_spenders.name": "Lapsed low spenders",
        "cluster.lapsed_low_spenders.action": (
            "One low-cost automated win-back email, then leave them out of paid campaigns."
        ),
        "cluster.noise.name": "Atypical customers (noise)",
        "cluster.noise.action": "Review individually; no segment-wide campaign.",
    }
)

_FR.update(
    {
        # données : journal brut et lignes nettoyées
        "data.intro_raw": (
            "Le journal des transactions compte {lines} lignes de {customers} clients identifiés, "
            "du {start} au {end}, pour un chiffre d’affaires net de {revenue}. Après nettoyage, "
            "il reste {kept} lignes ({share}), dans {countries} pays : les anomalies ci-dessous "
            "portent sur les lignes brutes, toutes les autres figures de cette section décrivent "
            "les lignes nettoyées."
        ),
        "data.distributions.intro_positive": (
            "Les histogrammes et les boîtes à moustaches utilisent des échelles logarithmiques : "
            "quantités, prix et montants s’étalent sur plusieurs ordres de grandeur."
        ),
        "col.raw_log": "Journal brut",
        "col.clean_lines": "Après nettoyage",
        "table.key_figures.note": (
            "Journal brut : toutes les lignes fournies, anomalies comprises (médianes sur toutes "
            "les lignes, négatives incluses). Après nettoyage : les lignes retenues pour la "
            "segmentation."
        ),
        # nettoyage
        "clean.heading": "Nettoyage",
        "clean.intro": (
            "Les lignes impossibles à rattacher à un client ou qui ne sont pas des ventes sont "
            "retirées par les règles ci-dessous, appliquées dans cet ordre (une ligne est "
            "comptée sous la première règle qui la retire) : il reste {kept} des {rows} lignes "
            "({share}), de {customers} clients."
        ),
        "clean.policy": "Options de cette exécution : {choices}.",
        "clean.kept": "Lignes conservées",
        "table.cleaning.title": "Lignes retirées par chaque règle de nettoyage",
        "table.cleaning.note": "Les parts portent sur toutes les lignes du journal brut.",
        "col.rule": "Règle",
        "col.removes": "Ce qu’elle retire",
        "policy.returns.drop": (
            "annulations retirées (elles servent encore au taux de retour de chaque client)"
        ),
        "policy.returns.net": "annulations déduites des dépenses du client",
        "policy.non_product.drop": "frais de port, commissions et autres lignes hors produits retirés",
        "policy.non_product.keep": "frais de port, commissions et autres lignes hors produits conservés",
        "policy.duplicates.drop": "doublons exacts retirés (un exemplaire conservé)",
        "policy.duplicates.keep": "doublons exacts conservés",
        "clean.missing_customer_id.name": "Sans identifiant client",
        "clean.missing_customer_id.description": "Impossible à rattacher à un client.",
        "clean.exact_duplicates.name": "Doublons exacts",
        "clean.exact_duplicates.description": "Deuxième exemplaire et suivants de lignes identiques.",
        "clean.cancellation.name": "Annulations",
        "clean.cancellation.description": "Factures commençant par « C ».",
        "clean.bad_debt_adjustment.name": "Ajustements de créances irrécouvrables",
        "clean.bad_debt_adjustment.description": "Factures commençant par « A ».",
        "clean.non_positive_quantity.name": "Quantité nulle ou négative",
        "clean.non_positive_quantity.description": "Corrections de stock hors annulations.",
        "clean.non_positive_price.name": "Prix nul ou négatif",
        "clean.non_positive_price.description": "Articles gratuits et écritures comptables.",
        "clean.non_product_code.name": "Codes hors produits",
        "clean.non_product_code.description": (
            "Codes article ne commençant pas par cinq chiffres : frais de port, commissions, "
            "saisies manuelles."
        ),
        "clean.after_snapshot.name": "Après la date d’observation",
        "clean.after_snapshot.description": "Lignes datées du jour d’observation ou après.",
        # variables client
        "features.heading": "Variables client",
        "features.intro": (
            "Chacun des {customers} clients est décrit par les variables ci-dessous, mesurées "
            "sur les lignes nettoyées jusqu’à la date d’observation, le {snapshot} :"
        ),
        "features.item": "{label} : {definition}",
        "features.skew_item": "{label} {value}",
        "feature.recency.definition": (
            "nombre de jours entiers entre le dernier achat et la date d’observation."
        ),
        "feature.frequency.definition": "nombre de commandes (factures) distinctes.",
        "feature.monetary.definition": "dépense totale, somme des montants des lignes conservées.",
        "feature.tenure.definition": (
            "nombre de jours entiers entre le premier achat et la date d’observation."
        ),
        "feature.avg_order_value.definition": "dépense totale divisée par le nombre de commandes.",
        "feature.items_per_order.definition": "unités achetées divisées par le nombre de commandes.",
        "feature.distinct_products.definition": "nombre de produits distincts achetés.",
        "feature.return_rate.definition": (
            "valeur des lignes annulées divisée par la valeur des achats (au plus 1)."
        ),
        "table.features.title": "Distribution des variables de segmentation",
        "table.features.note": (
            "Q1 et Q3 : premier et troisième quartiles (un quart des clients sous Q1, un quart "
            "au-dessus de Q3)."
        ),
        "col.feature": "Variable",
        "col.min": "Min.",
        "col.q1": "Q1",
        "col.median": "Médiane",
        "col.mean": "Moyenne",
        "col.q3": "Q3",
        "col.max": "Max.",
        "transform.detail_log": (
            "log(1 + x) est appliqué aux variables dont l’asymétrie dépasse {threshold} "
            "(asymétrie avant : {skews}), ici {logged} ; chaque variable est ensuite "
            "standardisée (moyenne 0, écart type 1) pour peser autant que les autres dans les "
            "distances."
        ),
        "transform.detail_log_none": (
            "Aucune variable n’a une asymétrie supérieure à {threshold} (asymétrie : {skews}) : "
            "aucune n’est passée au logarithme ; chaque variable est standardisée (moyenne 0, "
            "écart type 1)."
        ),
        "transform.detail_yeo_johnson": (
            "La transformation puissance de Yeo-Johnson rend chaque variable aussi symétrique "
            "que possible ; chaque variable est ensuite standardisée (moyenne 0, écart type 1) "
            "pour peser autant que les autres dans les distances."
        ),
        # méthodes
        "method.kmeans": "K-moyennes",
        "method.dbscan": "DBSCAN",
        "method.rfm": "Score RFM",
        "methods.intro": (
            "Trois méthodes segmentent les mêmes {customers} clients. Elles répondent à des "
            "questions différentes, et la section 6 compare leurs réponses. Les K-moyennes et "
            "DBSCAN travaillent sur les variables transformées ({features}) ; le score RFM sur "
            "la récence, la fréquence et le montant bruts."
        ),
        "methods.kmeans": (
            "Les K-moyennes partagent les clients en k groupes de sorte que chaque client soit "
            "plus proche du centre de son groupe que de tout autre centre. La méthode a besoin "
            "du nombre de groupes k, choisi en section 4 entre {k_min} et {k_max} ; elle est "
            "lancée plusieurs fois depuis des points de départ différents (graine aléatoire "
            "{seed}) et le meilleur essai est retenu. Les segments sont numérotés par dépense "
            "typique décroissante (centre du segment sur le montant transformé en logarithme) : "
            "le segment 0 dépense le plus."
        ),
        "methods.minibatch": (
            "Au-delà de {threshold} clients, les K-moyennes par mini-lots (ajustées sur de petits "
            "lots tirés au hasard), plus rapides, prennent le relais ; cette exécution a utilisé "
            "l’algorithme standard."
        ),
        "methods.minibatch_used": (
            "Cette exécution compte plus de {threshold} clients : les K-moyennes par mini-lots "
            "(ajustées sur de petits lots de clients tirés au hasard), plus rapides, ont été "
            "utilisées."
        ),
        "methods.dbscan": (
            "DBSCAN regroupe les clients situés dans des zones denses : un client qui a au moins "
            "min_samples voisins à une distance inférieure à eps est un client central, et les "
            "clients centraux à moins de eps les uns des autres s’enchaînent en un même groupe. "
            "La méthode n’a pas besoin du nombre de groupes mais de deux paramètres, eps et "
            "min_samples (section 4), et elle classe comme bruit les clients qu’aucun client "
            "central n’atteint, ce qui en fait un détecteur de clients atypiques."
        ),
        "methods.rfm": (
            "Le score RFM ne demande aucun algorithme : la récence, la fréquence et le montant "
            "sont chacun découpés selon leurs quantiles en {n} groupes notés de 1 à {n} ({n} = "
            "le plus récent, le plus fréquent, la plus forte dépense). Les notes de fréquence et "
            "de montant sont moyennées (arrondi inférieur) en une note FM, et le couple (R, FM) "
            "place le client dans l’un des segments nommés de la pratique marketing (carte en "
            "section 5)."
        ),
        "methods.outliers.heading": "Clients atypiques",
        "methods.outliers": (
            "Au sein de chaque segment des K-moyennes, un client est atypique lorsque l’une de "
            "ses variables transformées s’écarte de plus de {threshold} écarts types robustes de "
            "la médiane du segment (score z robuste : écart à la médiane divisé par 1,4826 × "
            "l’écart absolu médian, règle d’Iglewicz et Hoaglin). Le motif indique la variable "
            "la plus éloignée."
        ),
        "table.rfm_scores.title": "Valeurs correspondant à chaque note RFM",
        "table.rfm_scores.note": (
            "Les bornes sont les quantiles des clients de cette exécution, chaque intervalle "
            "incluant sa borne supérieure. Un tiret signale une note vide : des ex æquo placent "
            "deux quantiles sur la même valeur."
        ),
        "col.score": "Note",
        "rfm.range_upto": "≤ {hi}",
        "rfm.range_from": "≥ {lo}",
        "rfm.range_above": "> {lo}",
        "rfm.range_between": "de {lo} à {hi}",
        # choix de k
        "k.heading": "Nombre de segments des K-moyennes (k)",
        "k.rule": (
            "Une valeur de k est admissible si elle donne au moins {min_clusters} segments et si "
            "son plus petit segment réunit au moins {min_share} des clients, pour que chaque "
            "segment soit assez grand pour agir. Chaque k admissible est classé selon quatre "
            "critères : la silhouette (plus elle est haute, mieux c’est), l’indice de "
            "Calinski-Harabasz (plus haut, mieux c’est), l’indice de Davies-Bouldin (plus bas, "
            "mieux c’est) et la distance au coude de la courbe d’inertie (plus petite, mieux "
            "c’est). Les rangs sont ramenés entre 0 (le pire) et 1 (le meilleur) puis moyennés "
            "en un score combiné ; le score le plus élevé l’emporte."
        ),
        "k.decision": (
            "k = {k} est retenu : il obtient le meilleur score combiné ({score}) des {n} valeurs "
            "admissibles ({values}), avec une silhouette de {silhouette}, un indice de "
            "Calinski-Harabasz de {ch} et un indice de Davies-Bouldin de {db} ; {knee}. Son plus "
            "petit segment réunit {share} des clients."
        ),
        "k.knee_same": "c’est aussi le coude de la courbe d’inertie",
        "k.knee_other": "le coude de la courbe d’inertie est à k = {knee}",
        "k.knee_none": "la courbe d’inertie ne présente pas de coude net",
        "k.decision_relaxed": (
            "Aucun k ne donne au moins {min_clusters} segments avec un plus petit segment d’au "
            "moins {min_share} ; k = {k} est retenu car son plus petit segment est le plus grand "
            "({share} des clients)."
        ),
        "k.decision_fallback": (
            "Aucun des k essayés ne donne au moins {min_clusters} segments ; k = {k}, qui a la "
            "meilleure silhouette, est retenu. Essayez des valeurs de k plus grandes pour "
            "appliquer la règle."
        ),
        "k.decision_forced": (
            "k = {k} a été imposé par l’utilisateur (--k {k}) ; ses scores sont donnés à titre "
            "indicatif : silhouette {silhouette}, Calinski-Harabasz {ch}, Davies-Bouldin {db}, "
            "plus petit segment {share} des clients."
        ),
        "k.decision_forced_unscanned": (
            "k = {k} a été imposé par l’utilisateur (--k {k}) ; il est hors des valeurs de k "
            "essayées, aucun score n’est donc disponible."
        ),
        "k.forced_note": "La règle automatique aurait choisi k = {auto}.",
        "k.top_silhouette": "k = {k} a la meilleure silhouette ({silhouette}) mais {why}.",
        "k.status.chosen": "Retenu",
        "k.status.user": "Non retenu (k imposé)",
        "k.status.few.short": "Moins de {n} segments",
        "k.status.few.long": "il donne moins de {n} segments",
        "k.status.no_scores.short": "Scores incalculables",
        "k.status.no_scores.long": "ses scores n’ont pas pu être calculés",
        "k.status.small.short": "Plus petit segment sous {minimum}",
        "k.status.small.long": (
            "son plus petit segment ne réunit que {share} des clients (au moins {minimum} exigés)"
        ),
        "k.status.lower.short": "Score inférieur",
        "k.status.lower.long": "son score combiné est inférieur ({score} contre {best})",
        "k.status.tie.short": "Même score, non préféré",
        "k.status.tie.long": (
            "il obtient le même score combiné mais est plus loin du coude ou donne plus de segments"
        ),
        "table.k_scan.title": "Scores de chaque valeur de k essayée",
        "col.inertia": "Inertie",
        "col.smallest_segment": "Plus petit segment",
        "col.combined_score": "Score combiné",
        "col.decision": "Décision",
        "score.silhouette": "Silhouette",
        "score.calinski_harabasz": "Calinski-Harabasz",
        "score.davies_bouldin": "Davies-Bouldin",
        "label.higher_better": "plus haut = mieux",
        "label.lower_better": "plus bas = mieux",
        "fig.elbow.title": "Inertie selon le nombre de segments",
        "fig.elbow.caption": (
            "L’inertie (somme des carrés des distances des clients au centre de leur segment) "
            "baisse toujours quand k augmente ; cherchez le coude où un segment de plus ne "
            "rapporte plus grand-chose : Kneedle le trouve à k = {knee} (trait pointillé)."
        ),
        "fig.elbow.caption_none": (
            "L’inertie (somme des carrés des distances des clients au centre de leur segment) "
            "baisse toujours quand k augmente ; cherchez le coude où un segment de plus ne "
            "rapporte plus grand-chose : cette courbe n’en a pas de net."
        ),
        "fig.k_scores.title": "Scores de qualité selon le nombre de segments",
        "fig.k_scores.caption": (
            "Cherchez un k qui obtient de bons scores sur les trois à la fois ; le trait "
            "pointillé marque le k retenu (k = {k}), les points creux les valeurs de k que la "
            "règle n’admet pas."
        ),
        "fig.silhouette.title": "Silhouette de chaque client, k = {k}",
        "fig.silhouette.caption": (
            "Chaque trait horizontal est un client : proche de 1, il est bien plus près de son "
            "segment que du segment voisin ; proche de 0, il est à la frontière ; sous 0, il est "
            "probablement dans le mauvais segment. Cherchez des segments aux barres longues et "
            "avec peu de valeurs négatives. Calculée sur {sample}."
        ),
        "axis.k": "Nombre de segments k",
        "axis.inertia": "Inertie (somme des carrés des distances)",
        "axis.silhouette": "Coefficient de silhouette",
        "legend.knee": "Coude (Kneedle) : k = {k}",
        "legend.chosen_k": "Retenu : k = {k}",
        "legend.not_admissible": "Non admissible",
        "legend.mean_silhouette": "Silhouette moyenne : {value}",
        "sample.all": "l’ensemble des {n} clients",
        "sample.some": "un échantillon aléatoire (graine fixée) de {size} des {n} clients",
        # réglage de DBSCAN
        "db.heading": "DBSCAN : eps et min_samples",
        "db.rule": (
            "Pour chaque valeur de min_samples essayée ({grid}), eps est lu au coude de la "
            "courbe des distances de chaque client à son (min_samples − 1)-ième plus proche "
            "voisin, puis multiplié par {factors}. Un réglage est éligible s’il donne au moins "
            "deux groupes réunissant chacun au moins {min_share} des clients, et au plus "
            "{max_noise} de bruit. Les réglages éligibles sont notés par la silhouette des "
            "clients regroupés multipliée par la part des clients regroupés, pour que rejeter "
            "des clients dans le bruit ne paie pas ; la note la plus élevée l’emporte."
        ),
        "db.decision": (
            "min_samples = {min_samples} et eps = {eps} ({factor} × le coude, {knee}) obtiennent "
            "la meilleure note, {score} (silhouette des clients regroupés {silhouette} × "
            "{clustered} des clients regroupés), parmi les {n_eligible} réglages éligibles sur {n}."
        ),
        "db.decision_none": (
            "Aucun des {n} réglages ne remplit ces conditions : DBSCAN ne sépare pas ces "
            "clients ; eps = {eps} (le coude) avec min_samples = {min_samples} est conservé : "
            "{clusters} groupe(s), {noise} de bruit."
        ),
        "db.sampled": (
            "Le réglage a été fait sur un échantillon aléatoire (graine fixée) de {size} des "
            "{n} clients."
        ),
        "db.sampled_fit": (
            "DBSCAN a été ajusté sur un échantillon ; chaque autre client prend le groupe de son "
            "plus proche client central, ou rejoint le bruit si aucun n’est à moins de eps."
        ),
        "db.status.chosen": "Retenu",
        "db.status.eligible": "Éligible",
        "db.status.few": "Moins de 2 groupes de {share}",
        "db.status.noisy": "Bruit au-delà de {share}",
        "db.status.not_eligible": "Non éligible",
        "table.dbscan_grid.title": "Réglages de DBSCAN essayés",
        "col.eps_factor": "× coude",
        "col.clusters": "Groupes",
        "col.major_clusters": "Groupes ≥ {share}",
        "col.noise": "Bruit",
        "col.silhouette_clustered": "Silhouette (regroupés)",
        "fig.k_distance.title": "Courbe des k-distances",
        "fig.k_distance.caption": (
            "Clients triés selon leur distance à leur k-ième plus proche voisin (k = {k}, "
            "échelle logarithmique, {n} clients) : la courbe se redresse là où les clients "
            "quittent les zones denses. Le coude (pointillés fins) et l’eps retenu (tirets) sont "
            "marqués : avec min_samples = {min_samples}, les clients au-dessus des tirets sont "
            "candidats au bruit."
        ),
        "axis.customers_sorted": "Clients, triés par distance",
        "axis.k_distance": "k-distance (k = {k}, échelle log.)",
        "legend.knee_eps": "Coude : {value}",
        "legend.chosen_eps": "eps retenu : {value}",
        # segments
        "segments.kmeans.heading": "Segments des K-moyennes",
        "segments.kmeans.intro": (
            "Les K-moyennes trouvent {k} segments. Chacun est nommé d’après la place de sa "
            "récence, de sa fréquence et de sa dépense médianes parmi l’ensemble des clients "
            "(tiers inférieur, médian ou supérieur, ou dixième supérieur), et l’action "
            "recommandée découle de ce profil ; les segments sont numérotés par dépense "
            "typique décroissante."
        ),
        "table.kmeans_segments.title": "Les segments des K-moyennes en bref",
        "table.segments.note": (
            "Médianes : la moitié des clients du segment est en dessous, l’autre moitié au-dessus."
        ),
        "col.segment": "Segment",
        "col.customer_share": "Part des clients",
        "col.median_recency": "Récence médiane (jours)",
        "col.median_frequency": "Commandes (médiane)",
        "col.median_monetary": "Dépense médiane",
        "col.atypical": "Atypiques",
        "card.facts": "{n} clients ({share}) · {revenue} du chiffre d’affaires",
        "card.profile": "Profil",
        "card.typical": "Client type",
        "card.typical_value": (
            "dernière commande il y a {recency}, {frequency}, {monetary} dépensés"
        ),
        "unit.days.one": "{n} jour",
        "unit.days.other": "{n} jours",
        "unit.orders.one": "{n} commande",
        "unit.orders.other": "{n} commandes",
        "card.action": "Action recommandée",
        "card.who": "Qui sont-ils",
        "level.r.top": "a acheté très récemment",
        "level.f.top": "parmi les 10 % d’acheteurs les plus fréquents",
        "level.m.top": "parmi les 10 % qui dépensent le plus",
        "level.r.high": "a acheté récemment",
        "level.r.mid": "dernière commande ni récente ni ancienne",
        "level.r.low": "aucune commande depuis longtemps",
        "level.f.high": "commande souvent",
        "level.f.mid": "commande de temps en temps",
        "level.f.low": "commande rarement",
        "level.m.high": "dépense beaucoup",
        "level.m.mid": "dépense dans la moyenne",
        "level.m.low": "dépense peu",
        "label.list_comma": ", ",
        "label.name_variant": "{name} ({n})",
        "label.cluster": "Groupe {n}",
        "label.noise": "Bruit",
        "fig.shares.title": "Part des clients et part du chiffre d’affaires par segment",
        "fig.shares.caption": (
            "Comparez les deux barres de chaque segment : « {name} » réunit {customers} des "
            "clients mais apporte {revenue} du chiffre d’affaires."
        ),
        "legend.customer_share": "Part des clients",
        "legend.revenue_share": "Part du chiffre d’affaires (couleur du segment)",
        "axis.share": "Part",
        "fig.centers.title": "Profil moyen de chaque segment des K-moyennes",
        "fig.centers.caption": (
            "Moyenne de chaque variable transformée dans le segment, en écarts types par rapport "
            "au client moyen : rouge au-dessus de la moyenne, bleu en dessous. Pour la récence, "
            "bleu signifie un dernier achat plus récent."
        ),
        "fig.segment_boxplots.title": "Récence, commandes et dépense par segment ({method})",
        "fig.segment_boxplots.caption": (
            "Les boîtes contiennent la moitié centrale des clients de chaque segment (trait : "
            "médiane) et les moustaches s’étendent à 1,5 × l’écart interquartile ; les points "
            "sont les clients les plus extrêmes au-delà (au plus les 30 plus élevés par "
            "segment). Dépense et commandes sont en échelle logarithmique : regardez à quel "
            "point les boîtes sont éloignées."
        ),
        "fig.scatter.title": "Clients colorés selon leur segment des K-moyennes",
        "fig.scatter.caption": (
            "Chaque point est un client ({sample}) ; les cercles noirs marquent les clients "
            "atypiques. Regardez si les couleurs se séparent nettement ; à droite, les deux "
            "premières composantes principales ({explained} de la variance) montrent les "
            "segments tels que les K-moyennes les voient."
        ),
        "axis.pc": "Composante principale {n}",
        "axis.pc_share": "Composante principale {n}\n({share} de la variance)",
        "legend.atypical": "Client atypique",
        "outliers.heading": "Clients atypiques",
        "outliers.none": "Aucun client n’est atypique au sein de son segment.",
        "outliers.intro": (
            "{n} clients ({share}) sont atypiques au sein de leur segment ({per_segment}). Ils "
            "restent dans leur segment mais méritent un examen avant toute campagne : ce sont "
            "souvent les plus gros comptes, parfois des erreurs de données."
        ),
        "outliers.per_segment": "{name} : {n}",
        "outlier.reason_high": (
            "{feature} très au-dessus de la médiane du segment (z robuste = {z})"
        ),
        "outlier.reason_low": "{feature} très en dessous de la médiane du segment (z robuste = {z})",
        "table.outliers.title": "Clients atypiques et motif",
        "table.outliers.note_all": (
            "Tous les clients atypiques sont listés ; customers.csv les signale dans la colonne "
            "is_outlier."
        ),
        "table.outliers.note_some": (
            "Les {shown} plus atypiques des {n} sont listés ; customers.csv les signale tous "
            "dans la colonne is_outlier."
        ),
        "col.customer": "Client",
        "col.why_atypical": "Motif",
        "segments.rfm.heading": "Segments RFM",
        "segments.rfm.intro": (
            "La carte RFM place chaque client selon sa note de récence (colonnes) et sa note "
            "fréquence-montant (lignes) ; chaque zone colorée est un segment de la pratique "
            "marketing, dont l’action recommandée figure plus bas."
        ),
        "fig.rfm_map.title": "Carte des segments RFM",
        "fig.rfm_map.caption": (
            "Lisez une case comme « tant de clients ont cette note de récence et cette note "
            "FM » ; le plus grand segment est « {name} », avec {n} clients ({share})."
        ),
        "fig.rfm_map.caption_empty": (
            "Lisez une case comme « tant de clients ont cette note de récence et cette note FM »."
        ),
        "axis.r_score": "Note de récence ({best} = la plus récente)",
        "axis.fm_score": "Note fréquence-montant ({best} = la plus haute)",
        "table.rfm_segments.title": "Les segments RFM en bref",
        "segments.dbscan.heading": "Groupes de DBSCAN",
        "table.dbscan_segments.title": "Les groupes de DBSCAN en bref",
        "db.found": "DBSCAN trouve {n} groupes ({clusters}) et {noise} de bruit.",
        "db.found_one": "DBSCAN trouve un seul groupe ({clusters}) et {noise} de bruit.",
        "db.cluster_share": "{name} : {share}",
        "db.all_noise": (
            "DBSCAN classe tous les clients comme bruit : eps est trop petit pour la densité de "
            "ces clients et aucune structure n’apparaît."
        ),
        "db.layered": (
            "Mais les groupes suivent les valeurs de la variable « {feature} » : chaque valeur "
            "tombe dans un seul groupe ({purity} des clients regroupés).{singles} Les écarts que "
            "DBSCAN détecte séparent des valeurs successives de cette variable, pas des groupes "
            "de clients : c’est un découpage selon « {feature} » qu’un simple seuil donnerait "
            "directement, pas une segmentation."
        ),
        "db.single_lowest": (
            "{name} : uniquement les clients à la plus faible valeur de « {feature} » ({value})."
        ),
        "db.single_highest": (
            "{name} : uniquement les clients à la plus forte valeur de « {feature} » ({value})."
        ),
        "db.continuum": (
            "Un seul groupe dense réunit {share} des clients : ils forment un continuum plutôt "
            "que des groupes séparés. DBSCAN sert ici à repérer les clients atypiques, pas à "
            "segmenter ; utilisez les segments des K-moyennes ou RFM."
        ),
        "db.separated": (
            "À cette densité, les clients forment bien des groupes séparés ; la section 6 les "
            "compare aux segments des K-moyennes."
        ),
        "db.noise": (
            "Les {n} clients du bruit sont isolés de toute zone dense : ils apportent {revenue} "
            "du chiffre d’affaires, avec une dépense médiane de {monetary}."
        ),
        # comparaison
        "comparison.intro": (
            "L’indice de Rand ajusté (ARI) mesure à quel point deux segmentations regroupent "
            "les mêmes clients : 1 quand elles sont identiques, environ 0 quand elles ne "
            "s’accordent pas plus que le hasard."
        ),
        "table.ari.title": "Accord entre les méthodes (indice de Rand ajusté)",
        "table.ari.note": (
            "Lecture : sous 0,2 accord faible, de 0,2 à 0,5 modéré, de 0,5 à 0,8 fort, à partir "
            "de 0,8 très fort. Le bruit de DBSCAN compte comme un groupe."
        ),
        "col.methods": "Méthodes",
        "col.ari": "ARI",
        "col.reading": "Accord",
        "comparison.pair": "{a} et {b}",
        "ari.weak": "Faible",
        "ari.moderate": "Modéré",
        "ari.strong": "Fort",
        "ari.very_strong": "Très fort",
        "table.kmeans_rfm.title": "Segments des K-moyennes et segments RFM (clients)",
        "table.kmeans_rfm.note": (
            "Chaque case compte les clients d’un segment RFM (ligne) dans un segment des "
            "K-moyennes (colonne), vide s’il n’y en a aucun ; la teinte est la part de la "
            "ligne : une seule case foncée sur une ligne signifie que le segment RFM tient dans "
            "un seul segment des K-moyennes."
        ),
        "table.kmeans_dbscan.note": (
            "Clients de chaque segment des K-moyennes (ligne) dans chaque groupe de DBSCAN "
            "(colonne), teintés selon leur part de la ligne."
        ),
        "col.rfm_segment": "Segment RFM",
        "col.total": "Total",
        "comparison.reading": (
            "Où se trouvent les clients de chaque segment des K-moyennes parmi les segments RFM :"
        ),
        "comparison.mainly": "{name} : {share} dans « {rfm} »",
        "comparison.then": ", puis {share} dans « {rfm} »",
        "comparison.end": ".",
        "table.kmeans_dbscan.title": "Segments des K-moyennes et groupes de DBSCAN (clients)",
        "col.kmeans_segment": "Segment des K-moyennes",
        # annexe
        "appendix.sampling": "Échantillonnage",
        "sampling.silhouette": "Scores et diagramme de silhouette : calculés sur {sample}.",
        "sampling.minibatch": (
            "K-moyennes : K-moyennes par mini-lots, ajustées sur de petits lots de clients tirés "
            "au hasard."
        ),
        "sampling.dbscan": "Réglage de DBSCAN : sur {sample}.",
        "sampling.scatter": "Nuages de points : {sample}.",
        "sampling.approx_quantiles": (
            "Quartiles des figures sur les lignes de transaction : approchés (t-digest), le "
            "journal étant très volumineux."
        ),
        "sampling.exact_quantiles": (
            "Quartiles des figures sur les lignes de transaction : exacts, sur toutes les lignes."
        ),
        "table.run_timings.title": "Durée de chaque étape de l’exécution",
        "col.option": "Option de la ligne de commande",
        "col.cpu_time": "Temps processeur",
        "table.timings.note": (
            "La durée réelle dépend de la charge de la machine ; le temps processeur est celui "
            "que ce rapport a lui-même consommé. Chaque ligne de figures additionne le temps de "
            "ses figures, quel que soit le processus qui les a dessinées : le calcul fait "
            "dessiner une partie d’entre elles par un second processus pendant l’ajustement des "
            "modèles et partage les autres, si bien que le total peut dépasser la durée de "
            "l’étape du rapport (« report » dans les durées de summary.json)."
        ),
        "timing.hyperparameter_figures": "Figures : choix des hyperparamètres",
        "timing.segment_figures": "Figures : segments",
        "timing.report_text": "Textes et tableaux",
        "timing.plotting_import": "Chargement de la bibliothèque graphique",
        "col.cluster": "Groupe",
        "stage.load": "Chargement",
        "stage.audit": "Audit",
        "stage.clean": "Nettoyage",
        "stage.features": "Variables client",
        "stage.distributions": "Résumés pour les figures",
        "stage.k_selection": "Choix de k",
        "stage.kmeans": "K-moyennes",
        "stage.dbscan": "DBSCAN",
        "stage.rfm": "Score RFM",
        "stage.profiles": "Profils, clients atypiques, accord",
        "stage.assemble": "Assemblage des résultats",
        "stage.total": "Total",
        "label.platform": "Plateforme",
        "label.report_library": "{name} (rapport)",
        "label.range": "{lo} à {hi}",
        "unit.gigabytes": "{value} Go",
        "param.k": "Nombre de segments des K-moyennes",
        "param.k_range": "Valeurs de k essayées",
        "param.seed": "Graine aléatoire",
        "param.features": "Variables de segmentation",
        "param.transform": "Transformation",
        "param.returns": "Annulations",
        "param.non_product": "Lignes hors produits",
        "param.duplicates": "Doublons exacts",
        "param.as_of": "Date d’observation",
        "param.lang": "Langue du rapport",
        "param.figure_format": "Format des figures",
        "param.min_clusters": "Nombre minimal de segments",
        "param.min_cluster_share": "Part minimale du plus petit segment",
        "param.silhouette_sample_size": "Échantillon pour la silhouette (clients)",
        "param.minibatch_threshold": "K-moyennes par mini-lots au-delà de (clients)",
        "param.dbscan_sample_size": "Échantillon de réglage de DBSCAN (clients)",
        "param.memory_limit": "Limite de mémoire de DuckDB",
        "param.value.auto": "automatique",
        "param.value.as_of_default": "lendemain du dernier achat",
        "param.value.lang_en": "anglais",
        "param.value.lang_fr": "français",
        # noms et actions des segments des K-moyennes
        "cluster.vip_champions.name": "Champions VIP",
        "cluster.vip_champions.action": (
            "Suivi de compte dédié, avantages VIP et accès en avant-première ; préserver la "
            "relation, aucune remise nécessaire."
        ),
        "cluster.high_value_loyal.name": "Fidèles à forte valeur",
        "cluster.high_value_loyal.action": (
            "Programme VIP, accès en avant-première et service personnalisé ; aucune remise "
            "nécessaire."
        ),
        "cluster.loyal_regulars.name": "Habitués fidèles",
        "cluster.loyal_regulars.action": (
            "Ventes croisées et offres groupées pour augmenter le panier."
        ),
        "cluster.new_big_spenders.name": "Nouveaux gros acheteurs",
        "cluster.new_big_spenders.action": (
            "Accueil personnalisé et recommandations sur mesure pour obtenir une deuxième commande."
        ),
        "cluster.recent_mid_spenders.name": "Acheteurs récents à dépense moyenne",
        "cluster.recent_mid_spenders.action": (
            "Série d’accueil et incitation à un deuxième achat."
        ),
        "cluster.recent_low_spenders.name": "Acheteurs récents à faible dépense",
        "cluster.recent_low_spenders.action": (
            "Série de bienvenue et recommandations peu coûteuses pour installer l’habitude d’achat."
        ),
        "cluster.at_risk_big_spenders.name": "Gros acheteurs à risque",
        "cluster.at_risk_big_spenders.action": (
            "Prise de contact personnelle et récompense de fidélité avant qu’ils ne décrochent."
        ),
        "cluster.at_risk_regulars.name": "Habitués à risque",
        "cluster.at_risk_regulars.action": (
            "Relance avec des recommandations fondées sur leurs commandes passées."
        ),
        "cluster.lapsing_mid_spenders.name": "Acheteurs moyens qui s’éloignent",
        "cluster.lapsing_mid_spenders.action": (
            "Courriel de réengagement avec une incitation modérée et limitée dans le temps."
        ),
        "cluster.occasional_low_spenders.name": "Petits acheteurs occasionnels",
        "cluster.occasional_low_spenders.action": (
            "Relance par courriel pour un deuxième achat (recommandations, sans remise) ; "
            "hors campagnes payantes."
        ),
        "cluster.lapsing_low_spenders.name": "Petits acheteurs qui s’éloignent",
        "cluster.lapsing_low_spenders.action": (
            "Relances automatiques peu coûteuses ; aucune incitation payante."
        ),
        "cluster.lapsed_big_spenders.name": "Gros acheteurs perdus de vue",
        "cluster.lapsed_big_spenders.action": (
            "Campagne de reconquête avec une offre personnalisée et limitée dans le temps."
        ),
        "cluster.lapsed_mid_spenders.name": "Acheteurs moyens perdus de vue",
        "cluster.lapsed_mid_spenders.action": (
            "Campagne de reconquête avec une offre limitée dans le temps."
        ),
        "cluster.lapsed_low_spenders.name": "Petits acheteurs perdus de vue",
        "cluster.lapsed_low_spenders.action": (
            "Un courriel automatique de reconquête peu coûteux, puis les exclure des campagnes "
            "payantes."
        ),
        "cluster.noise.name": "Clients atypiques (bruit)",
        "cluster.noise.action": "Examiner au cas par cas ; pas de campagne à l’échelle du segment.",
    }
)


# Country names as they appear in the UCI Online Retail datasets -> French.
# English shows the data's own spelling.
_COUNTRIES_FR = {
    "Australia": "Australie",
    "Austria": "Autriche",
    "Bahrain": "Bahreïn",
    "Belgium": "Belgique",
    "Bermuda": "Bermudes",
    "Brazil": "Brésil",
    "Canada": "Canada",
    "Channel Islands": "Îles Anglo-Normandes",
    "Cyprus": "Chypre",
    "Czech Republic": "République tchèque",
    "Denmark": "Danemark",
    "EIRE": "Irlande",
    "European Community": "Communauté européenne",
    "Finland": "Finlande",
    "France": "France",
    "Germany": "Allemagne",
    "Greece": "Grèce",
    "Hong Kong": "Hong Kong",
    "Iceland": "Islande",
    "Israel": "Israël",
    "Italy": "Italie",
    "Japan": "Japon",
    "Korea": "Corée",
    "Lebanon": "Liban",
    "Lithuania": "Lituanie",
    "Malta": "Malte",
    "Netherlands": "Pays-Bas",
    "Nigeria": "Nigeria",
    "Norway": "Norvège",
    "Poland": "Pologne",
    "Portugal": "Portugal",
    "RSA": "Afrique du Sud",
    "Saudi Arabia": "Arabie saoudite",
    "Singapore": "Singapour",
    "Spain": "Espagne",
    "Sweden": "Suède",
    "Switzerland": "Suisse",
    "Thailand": "Thaïlande",
    "USA": "États-Unis",
    "United Arab Emirates": "Émirats arabes unis",
    "United Kingdom": "Royaume-Uni",
    "Unspecified": "Non précisé",
    "West Indies": "Antilles",
}
_EN.update({f"country.{name}": name for name in _COUNTRIES_FR})
_FR.update({f"country.{name}": french for name, french in _COUNTRIES_FR.items()})


def _french_typography(text: str) -> str:
    """Non-breaking spaces where French typography requires them."""
    text = re.sub(r" ([:»])", NBSP + r"\1", text)
    text = re.sub(r"« ", "«" + NBSP, text)
    text = re.sub(r" ([;!?%])", NNBSP + r"\1", text)
    return text


CATALOGUE: dict[str, dict[str, str]] = {
    "en": dict(_EN),
    "fr": {key: _french_typography(value) for key, value in _FR.items()},
}
"""Language -> key -> template. Both languages have exactly the same keys."""


# ---------------------------------------------------------------------------
# Translator
# ---------------------------------------------------------------------------


def _round_half_up(x: float, decimals: int) -> Decimal:
    quantum = Decimal(1).scaleb(-decimals)
    return Decimal(repr(float(x))).quantize(quantum, rounding=ROUND_HALF_UP)


def _as_date(value: date | datetime | str | Any) -> date:
    """A date from a date, datetime, pandas/NumPy timestamp or ISO string."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if hasattr(value, "year") and hasattr(value, "month") and hasattr(value, "day"):
        return date(int(value.year), int(value.month), int(value.day))
    text = value if isinstance(value, str) else str(value)[:19]  # numpy.datetime64
    try:
        return datetime.fromisoformat(text).date()
    except ValueError as exc:
        raise ParameterError(
            f"cannot read {value!r} as a date", fix="pass a date or an ISO 8601 string"
        ) from exc


class Translator:
    """Strings and number/date formats of one report language.

    Parameters
    ----------
    lang : {"en", "fr"}, default "en"
        Report language.

    Raises
    ------
    ParameterError
        ``lang`` is not a supported language.

    Examples
    --------
    >>> tr = Translator("fr")
    >>> tr.money(1234.5)
    '1\u202f234,50\xa0£'
    >>> Translator("en").date("2011-12-09")
    '9 Dec 2011'
    """

    def __init__(self, lang: str = "en") -> None:
        if lang not in CATALOGUE:
            raise ParameterError(
                f"unknown report language {lang!r}",
                fix=f"use one of {', '.join(LANGUAGES)}",
            )
        self.lang = lang
        self._catalogue = CATALOGUE[lang]

    def __repr__(self) -> str:
        return f"Translator({self.lang!r})"

    # -- strings ------------------------------------------------------------

    def t(self, key: str, **fmt: Any) -> str:
        """The template ``key`` in this language, filled with ``fmt``.

        Raises
        ------
        KeyError
            ``key`` is not in the catalogue (a programming error, caught by
            the catalogue tests).
        """
        try:
            template = self._catalogue[key]
        except KeyError:
            raise KeyError(f"no {self.lang!r} translation for {key!r}") from None
        return template.format(**fmt) if fmt else template

    def has(self, key: str) -> bool:
        """Whether ``key`` is in the catalogue."""
        return key in self._catalogue

    def plural(self, key: str, n: float | None, decimals: int = 0) -> str:
        """``n`` formatted with the singular or plural form of ``key``.

        Uses ``<key>.one`` or ``<key>.other`` (templates with ``{n}``): English
        takes the singular for "1" only (``1.0 days``), French for values below
        2 (``1,5 commande``, ``0 commande``).

        Examples
        --------
        >>> Translator("en").plural("unit.orders", 1)
        '1 order'
        >>> Translator("fr").plural("unit.orders", 2.5, 1)
        '2,5 commandes'
        """
        text = self.number(n, decimals)
        if n is None or not math.isfinite(float(n)):
            return self.t(f"{key}.other", n=text)
        value = abs(float(_round_half_up(float(n), decimals)))
        one = value < 2 if self.lang == "fr" else text == "1"
        return self.t(f"{key}.one" if one else f"{key}.other", n=text)

    def segment_name(self, key: str) -> str:
        """Display name of an RFM segment (``champions``, ``at_risk``, ...)."""
        return self.t(f"segment.{key}.name")

    def segment_description(self, key: str) -> str:
        """Who the customers of an RFM segment are."""
        return self.t(f"segment.{key}.description")

    def segment_action(self, key: str) -> str:
        """Recommended marketing action for an RFM segment."""
        return self.t(f"segment.{key}.action")

    def finding_name(self, key: str) -> str:
        """Display name of an audit finding (``zero_price``, ...).

        A finding the catalogue does not know (added to the audit later) is
        shown by its key rather than breaking the report; the catalogue tests
        check that every key of :data:`custseg.audit.FINDING_KEYS` is present.
        """
        return self._catalogue.get(f"finding.{key}.name", key)

    def finding_description(self, key: str) -> str:
        """What an audit finding means (empty for a finding the catalogue does not know)."""
        return self._catalogue.get(f"finding.{key}.description", "")

    def country(self, name: str) -> str:
        """A country name from the data, in this language when the catalogue knows it."""
        return self._catalogue.get(f"country.{name}", name)

    def variable(self, key: str, *, unit: bool = True, log: bool = False) -> str:
        """Axis label of a variable: ``Unit price (£, log scale)``."""
        label = self.t(f"var.{key}.label")
        if not unit:
            return label
        template = "axis.with_unit_log" if log else "axis.with_unit"
        return self.t(template, label=label, unit=self.t(f"var.{key}.unit"))

    # -- numbers --------------------------------------------------------------

    def _digits(self, x: float, decimals: int) -> str:
        value = _round_half_up(x, decimals)
        if value == 0:
            value = abs(value)  # no "-0"
        text = f"{value:,.{decimals}f}"
        if self.lang == "fr":
            text = text.replace(",", NNBSP).replace(".", ",")
        return text

    def number(self, x: float | int | None, decimals: int = 0) -> str:
        """``1,234.5`` (en) / ``1 234,5`` (fr); missing or non-finite -> ``–``."""
        if x is None or not math.isfinite(float(x)):
            return self.t("report.not_available")
        return self._digits(float(x), decimals)

    def percent(self, x: float | None, decimals: int = 1) -> str:
        """A fraction as a percentage: 0.125 -> ``12.5%`` / ``12,5 %``.

        A non-zero share that would round to zero is shown as ``<0.1%``
        (``< 0,1 %``).
        """
        if x is None or not math.isfinite(float(x)):
            return self.t("report.not_available")
        value = float(x) * 100.0
        smallest = 10.0**-decimals
        prefix = ""
        if 0 < abs(value) < smallest / 2:  # would round to zero: say "<0.1%"
            prefix, value = "<" if value > 0 else ">-", smallest
            prefix = prefix if self.lang == "en" else prefix + NNBSP
        digits = self._digits(value, decimals)
        return f"{prefix}{digits}%" if self.lang == "en" else f"{prefix}{digits}{NNBSP}%"

    def money(self, x: float | None, decimals: int = 2) -> str:
        """Pounds sterling: ``£1,234.50`` / ``1 234,50 £`` (``-£5.00`` / ``-5,00 £``)."""
        if x is None or not math.isfinite(float(x)):
            return self.t("report.not_available")
        digits = self._digits(abs(float(x)), decimals)
        negative = _round_half_up(float(x), decimals) < 0
        sign = "-" if negative else ""
        if self.lang == "en":
            return f"{sign}£{digits}"
        return f"{sign}{digits}{NBSP}£"

    def money_compact(self, x: float) -> str:
        """Short money for axis ticks: ``£1.2M``, ``£850k`` / ``1,2 M£``, ``850 k£``."""
        if x is None or not math.isfinite(float(x)):
            return self.t("report.not_available")
        value = abs(float(x))
        sign = "-" if x < 0 else ""
        for factor, suffix in ((1e9, "bn" if self.lang == "en" else "Md"), (1e6, "M"), (1e3, "k")):
            if value >= factor:
                scaled = value / factor
                decimals = 0 if scaled >= 10 or scaled == int(scaled) else 1
                digits = self._digits(scaled, decimals)
                if self.lang == "en":
                    return f"{sign}£{digits}{suffix}"
                return f"{sign}{digits}{NBSP}{suffix}£"
        decimals = 0 if value >= 10 or value == int(value) else 2
        return self.money(float(x), decimals)

    def seconds(self, x: float) -> str:
        """A duration in seconds: ``0.42 s`` / ``0,42 s``."""
        return self.t("unit.seconds", value=self.number(x, 2))

    # -- dates ----------------------------------------------------------------

    def date(self, d: date | datetime | str | Any) -> str:
        """``9 Dec 2011`` / ``9 déc. 2011`` (``1er`` on the first in French)."""
        day = _as_date(d)
        month = _MONTHS[self.lang][day.month - 1]
        number = "1er" if self.lang == "fr" and day.day == 1 else str(day.day)
        return f"{number} {month} {day.year}"

    def month(self, d: date | datetime | str | Any, *, long: bool = False) -> str:
        """Month and year: ``Dec 2011`` / ``déc. 2011``; ``long=True``: ``December 2011`` /
        ``décembre 2011`` (for running text). ``YYYY-MM`` strings work."""
        if isinstance(d, str) and len(d) == 7:
            d = d + "-01"
        day = _as_date(d)
        names = _MONTHS_LONG if long else _MONTHS
        return f"{names[self.lang][day.month - 1]} {day.year}"

    def month_short(self, d: date | datetime | str | Any) -> str:
        """Month abbreviation only: ``Dec`` / ``déc.``."""
        if isinstance(d, str) and len(d) == 7:
            d = d + "-01"
        return _MONTHS[self.lang][_as_date(d).month - 1]

    @property
    def html_lang(self) -> str:
        """Value of the HTML ``lang`` attribute (``en-GB``, ``fr-FR``)."""
        return {"en": "en-GB", "fr": "fr-FR"}[self.lang]
