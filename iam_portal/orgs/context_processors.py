def navigation(request):
    """The company switcher and the sidebar; views say which company and section they show."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not hasattr(request, "access"):
        return {}
    company = getattr(request, "nav_company", None)
    return {
        "nav_companies": request.access.companies().only("slug", "name"),
        "nav_company": company,
        "nav_project": getattr(request, "nav_project", None),
        "nav_section": getattr(request, "nav_section", ""),
        "nav_can_manage": bool(company) and request.access.can("company.identities.manage", company),
    }
