"""HTTP routes of the consent service."""

from typing import Annotated

from fastapi import APIRouter, Depends

from consent.inject import Container
from shared_kernel.service import container_of

router = APIRouter()
ContainerDep = Annotated[Container, Depends(container_of)]


@router.get("/", summary="サービス情報")
async def about(container: ContainerDep) -> dict[str, str]:
    return {"service": "consent", "title": "個人情報利用申請サービス"}
