"""Admin building blocks shared by the apps."""

from django.contrib import admin

from .db_scale import distinct_values


class ReadOnlyAdmin(admin.ModelAdmin):
    """Logs and credentials are written by the service, never edited by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def indexed_values_filter(field_name: str, title: str) -> type[admin.SimpleListFilter]:
    """A list filter on a column's values, listed through its index (core.db_scale's
    distinct_values) instead of Django's SELECT DISTINCT over the whole table."""

    class IndexedValuesFilter(admin.SimpleListFilter):
        parameter_name = field_name

        def lookups(self, request, model_admin):
            return [(v, v) for v in distinct_values(model_admin.model, field_name)]

        def queryset(self, request, queryset):
            value = self.value()
            return queryset.filter(**{field_name: value}) if value else queryset

    IndexedValuesFilter.title = title
    IndexedValuesFilter.__name__ = f"{field_name.title()}Filter"
    return IndexedValuesFilter
